import { ApiOkResponse, DECORATORS } from '@nestjs/swagger';
import { ErrorCode } from '../errors/error-codes';
import { ApiProblems } from './api-problem.decorator';

interface ProblemResponse {
  description: string;
  content: {
    'application/problem+json': { schema: { allOf: [unknown, { properties: { code: unknown } }] } };
  };
}

function responsesOf(handler: unknown): Record<string, ProblemResponse> {
  return Reflect.getMetadata(DECORATORS.API_RESPONSE, handler as object) as Record<
    string,
    ProblemResponse
  >;
}

const codesOf = (response: ProblemResponse) =>
  response.content['application/problem+json'].schema.allOf[1].properties.code;

describe('ApiProblems', () => {
  it('should add up the codes of several decorators, higher first, one entry per status', () => {
    class Controller {
      @ApiProblems(ErrorCode.AUTH_TOKEN_INVALID)
      @ApiProblems(ErrorCode.QUEUE_TOKEN_INVALID, ErrorCode.SEAT_UNAVAILABLE)
      @ApiProblems(ErrorCode.BOOKING_CLOSED)
      handler() {}
    }
    const responses = responsesOf(Controller.prototype.handler);

    expect(Object.keys(responses).sort()).toEqual(['401', '409', '500', '503']);
    expect(codesOf(responses['401'])).toEqual({
      enum: [ErrorCode.AUTH_TOKEN_INVALID, ErrorCode.QUEUE_TOKEN_INVALID],
      example: ErrorCode.AUTH_TOKEN_INVALID,
    });
    // Written once from the whole list, not concatenated per decorator.
    expect(responses['409'].description).toBe(
      '`SEAT_UNAVAILABLE`: Seat is not available<br>`BOOKING_CLOSED`: Booking window is closed',
    );
    expect(responses['503'].description).toBe(
      '`SERVICE_UNAVAILABLE`: Service temporarily unavailable',
    );
  });

  it('should put the codes of a controller-level decorator first on each handler', () => {
    @ApiProblems(ErrorCode.ADMIN_KEY_INVALID)
    class Controller {
      @ApiProblems(ErrorCode.CONCERT_NOT_FOUND)
      first() {}

      @ApiProblems(ErrorCode.CREDENTIALS_INVALID)
      second() {}
    }

    expect(Object.keys(responsesOf(Controller.prototype.first)).sort()).toEqual([
      '401',
      '404',
      '500',
      '503',
    ]);
    expect(codesOf(responsesOf(Controller.prototype.second)['401'])).toEqual({
      enum: [ErrorCode.ADMIN_KEY_INVALID, ErrorCode.CREDENTIALS_INVALID],
      example: ErrorCode.ADMIN_KEY_INVALID,
    });
  });

  it('should write 500 and 503 once when an empty ApiProblems() comes first', () => {
    class Controller {
      @ApiProblems(ErrorCode.RATE_LIMITED)
      @ApiProblems()
      handler() {}
    }

    expect(responsesOf(Controller.prototype.handler)['500'].description).toBe(
      '`INTERNAL_ERROR`: Internal server error',
    );
  });

  it('should leave the other responses of the handler alone', () => {
    class Controller {
      @ApiProblems(ErrorCode.RATE_LIMITED)
      @ApiProblems(ErrorCode.VALIDATION_FAILED)
      @ApiOkResponse({ description: 'The balance' })
      handler() {}
    }
    const responses = responsesOf(Controller.prototype.handler);

    expect(Object.keys(responses).sort()).toEqual(['200', '400', '429', '500', '503']);
    expect(responses['200'].description).toBe('The balance');
  });
});
