"""Recognition jobs: a heartbeat, one active job per note, and a stall check every minute."""

from django.db import migrations, models

ACTIVE = ["queued", "running"]
FUNC = "recognition.tasks.expire_stale_jobs"


def fail_duplicate_active_jobs(apps, schema_editor):
    # Before the constraint: where a note has several active jobs, only its newest stays.
    Job = apps.get_model("recognition", "RecognitionJob")
    seen = set()
    for job in Job.objects.filter(status__in=ACTIVE).order_by("note_id", "-created", "-pk"):
        if job.note_id in seen:
            Job.objects.filter(pk=job.pk).update(
                status="failed", error="Superseded by a newer run of recognition.")
        seen.add(job.note_id)


def check_every_minute(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).update(minutes=1)


def check_every_ten_minutes(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).update(minutes=10)


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0005_page_budget"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="recognitionjob",
            name="heartbeat",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fail_duplicate_active_jobs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="recognitionjob",
            constraint=models.UniqueConstraint(
                condition=models.Q(status__in=ACTIVE), fields=("note",),
                name="one_active_job_per_note"),
        ),
        migrations.RunPython(check_every_minute, check_every_ten_minutes),
    ]
