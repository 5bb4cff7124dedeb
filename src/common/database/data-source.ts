// Entry point for the TypeORM CLI (npm run migration:*), reading the same validated config.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source-options';

export default new DataSource(dataSourceOptions(databaseConfig()));
