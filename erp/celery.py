"""The one Celery app. Broker: Redis when REDIS_URL is set, else a filesystem broker under var/."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp.settings")

app = Celery("erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
