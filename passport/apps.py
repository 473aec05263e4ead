from django.apps import AppConfig


class PassportConfig(AppConfig):
    name = "passport"
    verbose_name = "Battery passports"
    default_auto_field = "django.db.models.BigAutoField"
