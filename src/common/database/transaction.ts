import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';

/** The transaction host every TypeORM repository injects; `tx` is the active EntityManager. */
export type TypeOrmTransactionHost = TransactionHost<TransactionalAdapterTypeOrm>;
export { TransactionHost } from '@nestjs-cls/transactional';
