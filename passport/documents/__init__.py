"""What people download: the passport as Battery Pass v1.2 JSON (export and import), signed
exports (detached JWS) and their keys, PDF reports, QR codes and label sheets.

Every document starts from the one access filter (`passport.access.filter_document`): the
exporters here only reshape what the reader may already see.
"""
