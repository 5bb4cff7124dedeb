import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, Length, Matches, MaxLength } from 'class-validator';
import { toNfc, VISIBLE_TEXT } from '../../../../common/http/text';
import { User } from '../../domain/user';

export class CreateUserRequest {
  @ApiProperty({ minLength: 1, maxLength: 50, example: 'Kim Minji' })
  @Transform(toNfc)
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  @Matches(/\S/, { message: 'name must not be blank' })
  @Matches(VISIBLE_TEXT, { message: 'name may contain only visible characters and spaces' })
  name!: string;

  @ApiProperty({ format: 'email', maxLength: 254, example: 'minji@example.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address' })
  email!: string;

  @ApiProperty({
    minLength: 8,
    maxLength: 128,
    format: 'password',
    example: 'correct horse battery',
  })
  @IsString()
  @Length(8, 128, { message: 'password must be 8 to 128 characters long' })
  password!: string;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, format: 'email', nullable: true }) email!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(user: User): UserResponse {
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      createdAt: user.createdAt.toISOString(),
    };
  }
}
