"""python manage.py create_api_token <email> [--name NAME]: print a new personal API token.

The token alone goes to standard output, so scripts can capture it:
    TOKEN=$(python manage.py create_api_token submitter@example.org --name ci)
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from consortium.members.permissions import staff_must_enrol_mfa
from submissions import services


class Command(BaseCommand):
    help = "Create a personal API token for the person with this email and print it (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The person's login email")
        parser.add_argument("--name", default="command line", help='What the token is for (default: "command line")')

    def handle(self, *args, email: str, name: str, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the email {email!r}. Check the address or sign the person up first.")
        if not user.is_active:
            raise CommandError(f"The account {user.email} is deactivated; its tokens would not work.")
        try:
            token, raw = services.api_token_create(user=user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(f"Token “{token.name}” ({token.prefix}…) created for {user.email}; it is not shown again.")
        if staff_must_enrol_mfa(user):
            self.stderr.write(
                f"{user.email} is staff without two-factor authentication: the API refuses this token (403) "
                "until they set it up."
            )
        self.stdout.write(raw)
