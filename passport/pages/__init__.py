"""Server-rendered pages for each kind of user: plain Django views over the same services and
selectors as the API (never API views), one module per audience."""
