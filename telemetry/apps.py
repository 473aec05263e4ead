from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"
    verbose_name = "Telemetry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # passport declares what it reads of measured health (passport.health_sources) and
        # never imports telemetry; telemetry supplies it.
        from passport.health_sources import measured_health_source_register
        from telemetry.health_sources import TelemetryHealthSource

        measured_health_source_register(TelemetryHealthSource())
