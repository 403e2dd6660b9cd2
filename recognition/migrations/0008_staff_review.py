"""The admin's review panel (issue 12): line reviews, the staff audit trail, and the
"Reviewers" group holding exactly the rights the panel needs.

The group's permissions are listed here, not imported from `recognition.review`: a migration
must keep doing what it did when written.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations, models

REVIEWERS = "Reviewers"
# (app label, codename): see the queues of notes, lines and jobs; mark lines reviewed; correct
# lines (through the editing services); re-run recognition. Nothing of users, groups, the
# audit trail (superusers only), collections, tags, pages or revisions.
REVIEWER_PERMISSIONS = [
    ("recognition", "view_note"),
    ("recognition", "view_line"),
    ("recognition", "view_recognitionjob"),
    ("recognition", "add_linereview"),
    ("recognition", "correct_line"),
    ("recognition", "rerun_recognition"),
]


def reviewers_create(apps, schema_editor):
    # Permissions are normally made after `migrate` finishes (post_migrate): make this app's
    # now, so that the group can hold them on a fresh database too.
    config = apps.get_app_config("recognition")
    config.models_module = True  # both helpers skip an app they think has no models
    try:
        create_contenttypes(config, verbosity=0, apps=apps)
        create_permissions(config, verbosity=0, apps=apps)
    finally:
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=REVIEWERS)
    wanted = [Permission.objects.get(content_type__app_label=app, codename=codename)
              for app, codename in REVIEWER_PERMISSIONS]
    group.permissions.set(wanted)


def reviewers_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=REVIEWERS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("recognition", "0007_revision_deltas"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LineReview",
            fields=[
                ("line", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                              primary_key=True, related_name="review",
                                              serialize=False, to="recognition.line")),
                ("reviewed", models.DateTimeField()),
                ("reviewer", models.ForeignKey(null=True,
                                               on_delete=django.db.models.deletion.SET_NULL,
                                               related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "permissions": [
                    ("correct_line", "Can correct lines in the review panel"),
                    ("rerun_recognition", "Can re-run recognition from the review panel"),
                ],
            },
        ),
        migrations.CreateModel(
            name="StaffAction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("actor_name", models.CharField(max_length=150)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("action", models.CharField(choices=[("correct", "Corrected lines"),
                                                     ("review", "Marked reviewed"),
                                                     ("rerun", "Re-ran recognition"),
                                                     ("retry", "Retried jobs")],
                                            max_length=10)),
                ("view", models.CharField(help_text="The admin view it was done from.",
                                          max_length=200)),
                ("target", models.CharField(help_text='What the ids are of: "recognition.line".',
                                            max_length=100)),
                ("object_ids", models.JSONField(blank=True, default=list)),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("actor", models.ForeignKey(null=True,
                                            on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-created", "-pk"]},
        ),
        migrations.RunPython(reviewers_create, reviewers_delete),
    ]
