from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from docs.pages import all_pages, find_page


@login_not_required
@require_safe
def index(request):
    return render(request, "docs/index.html", {"pages": all_pages()})


@login_not_required
@require_safe
def page(request, slug: str):
    pages = all_pages()
    current, previous, following = find_page(slug, pages)
    if current is None:
        raise Http404("No documentation page has this address.")
    return render(
        request,
        "docs/page.html",
        {"pages": pages, "page": current, "previous_page": previous, "next_page": following},
    )
