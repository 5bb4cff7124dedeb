import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginRequest {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'minji@example.com' })
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email!: string;

  @ApiProperty({ format: 'password', maxLength: 128, example: 'correct horse battery' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password!: string;
}

export class AccessTokenResponse {
  @ApiProperty({ description: 'A JWT; send it as `Authorization: Bearer <accessToken>`' })
  accessToken!: string;

  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires' })
  expiresIn!: number;
}
