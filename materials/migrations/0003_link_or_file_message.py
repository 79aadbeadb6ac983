"""Forms explain a material with both or neither of a link and a file in the constraint's own words."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('materials', '0002_organizers_permissions'),
    ]

    operations = [
        migrations.AlterConstraint(
            model_name='material',
            name='material_link_or_file',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(models.Q(('url', ''), _negated=True), ('file', '')), models.Q(('url', ''), models.Q(('file', ''), _negated=True)), _connector='OR'), name='material_link_or_file', violation_error_code='link_or_file', violation_error_message='Give a link or upload a PDF file (one of them).'),
        ),
    ]
