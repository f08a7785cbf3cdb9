from django.core.management.base import BaseCommand

from docs.highlight_css import DOCS_CSS, with_fresh_block


class Command(BaseCommand):
    help = "Regenerate the Pygments rules in static/css/docs.css (run after changing the style)."

    def handle(self, *args, **options):
        css = DOCS_CSS.read_text(encoding="utf-8")
        fresh = with_fresh_block(css)
        if fresh == css:
            self.stdout.write("static/css/docs.css is up to date.")
            return
        DOCS_CSS.write_text(fresh, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS("Regenerated the Pygments rules in docs.css."))
