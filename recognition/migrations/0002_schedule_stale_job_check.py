"""Schedule the check that fails recognition jobs no worker will finish."""

from django.db import migrations

FUNC = "recognition.tasks.expire_stale_jobs"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=FUNC, defaults={"name": "Expire stale recognition jobs", "schedule_type": "I",
                             "minutes": 10, "repeats": -1})


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0001_initial"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create, delete)]
