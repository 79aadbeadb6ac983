"""History entries for the reminder before the talk."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registrations', '0018_stream_link_sent_action'),
    ]

    operations = [
        migrations.AlterField(
            model_name='registrationlog',
            name='action',
            field=models.CharField(choices=[('registered', 'Registered (confirmed)'), ('waitlisted', 'Joined the waiting list'), ('promoted', 'Promoted from the waiting list'), ('cancelled', 'Cancelled'), ('checked_in', 'Checked in'), ('check_in_undone', 'Check-in undone'), ('walk_in', 'Registered at the door'), ('no_show', 'Marked as no-show'), ('confirmation_resent', 'Confirmation sent again'), ('link_resent', 'Link sent again'), ('update_sent', 'Calendar update sent'), ('email_bounced', 'Email bounced'), ('email_failed', 'Email could not be delivered'), ('erased', 'Personal data erased'), ('switched', 'Switched between in person and online'), ('held', 'Seat held until confirmed by email'), ('offered', 'Offered a seat from the waiting list'), ('hold_confirmed', 'Confirmed by email'), ('hold_expired', 'Not confirmed in time: released'), ('talk_cancelled', 'Told the talk is cancelled'), ('talk_on_again', 'Told the talk is on again'), ('stream_link_sent', 'Link to join online sent'), ('reminder_sent', 'Reminder before the talk sent')], max_length=30, verbose_name='action'),
        ),
    ]
