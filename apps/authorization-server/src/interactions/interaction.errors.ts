/** A form was posted without a matching CSRF token or from another origin. */
export class CsrfRejected extends Error {
  override readonly name = 'CsrfRejected';
  constructor() {
    super('the form is stale or was sent from another site; reload the page and try again');
  }
}

/** A form field is missing, repeated or too long. */
export class FormInvalid extends Error {
  override readonly name = 'FormInvalid';
}
