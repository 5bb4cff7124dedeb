import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { User } from '../../domain/user';

export class CreateUserRequest {
  @ApiProperty({ minLength: 1, maxLength: 50, example: 'Kim Minji' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(user: User): UserResponse {
    return { id: user.id, name: user.name, createdAt: user.createdAt.toISOString() };
  }
}
