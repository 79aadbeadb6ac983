from django.db import models


class Row(models.Model):
    """What the insert baseline writes (the table exists only in the benchmark database)."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bench"

    def __str__(self):
        return self.name
