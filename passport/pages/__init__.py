"""The HTML pages: plain Django views, server-rendered, no JavaScript.

Siblings of the API, never built on it: a page calls the same services and selectors
(`passport_read`, `battery_claim`, ...) and lays the result out with passport.presentation.
Domain errors get their status from passport.http_errors, the map the API uses too. Where one
address serves people and programs (a passport, a GS1 Digital Link), passport.resolver chooses
between the page and the API view.

One module per audience: passport (the page behind every QR code), home, owners, service
(repairers and recyclers), manufacturer, regulator; common holds what they share.
"""
