import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsString, Length, Matches, MaxLength } from 'class-validator';
import { User } from '../../domain/user';

// Letters, marks, numbers, punctuation, symbols and plain spaces: no control, format (bidi
// override, zero-width) or other invisible characters that could disguise a name.
const VISIBLE_NAME = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]+$/u;

export class CreateUserRequest {
  @ApiProperty({ minLength: 1, maxLength: 50, example: 'Kim Minji' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(50)
  @Matches(/\S/, { message: 'name must not be blank' })
  @Matches(VISIBLE_NAME, { message: 'name may contain only visible characters and spaces' })
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
