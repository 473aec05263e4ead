"""The Celery app. Without REDIS_URL, tasks run in-process (see settings.CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("battery_passport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules below the apps' own tasks.py.
app.autodiscover_tasks(["passport.documents"])
