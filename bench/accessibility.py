"""Accessibility and narrow-screen layout of every page of the site.

    python -m bench.accessibility [--no-lighthouse] [--out bench/results/accessibility]

A fresh site in a temporary folder (SQLite, tasks inline) with one user, a collection and a
note made from the landing page's sample photo (static/landing/sample.png, recognized by the
committed model), a line of it corrected (two revisions); Django's live-server thread serves it.
Every page (`site_pages`) is opened in Debian's Chromium (Playwright) at a desktop (1280x900)
and a phone (360x740) viewport, in the light and the dark colour scheme, and measured with:

- axe-core (bundled by the axe-playwright-python package), the WCAG 2.0/2.1 A and AA rules:
  violations by impact (critical, serious, moderate, minor), with the rule ids;
- the page's width: `document.documentElement.scrollWidth`, which must not pass the viewport;
- Lighthouse's accessibility score (0-100), when `npm install lighthouse` was run in
  .cache/node: desktop and mobile form factors, light scheme (Lighthouse has no dark switch).

Writes OUT.md and OUT.json. The tests (tests/browser/test_accessibility.py, test_layout.py)
use `site_pages`, `axe_violations` and `page_width` from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PHOTO = ROOT / "static" / "landing" / "sample.png"
LIGHTHOUSE = ROOT / ".cache" / "node" / "node_modules" / ".bin" / "lighthouse"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")  # impacts the tests refuse
IMPACTS = ("critical", "serious", "moderate", "minor")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
CORRECTION = "Budget review moved to Friday morning"
SEARCH_WORD = "Budget"


@dataclass(frozen=True)
class SitePage:
    """One page to measure: a name for the reports, its path, whether it needs the log-in."""

    name: str
    path: str
    login: bool = True
    status: int = 200


def site_data(user):
    """A collection holding a recognized note (the sample photo) with a corrected line."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from recognition import revisions, services
    from recognition.models import Collection, Line, Note

    collection = Collection.objects.create(owner=user, name="Team meetings")
    photo = SimpleUploadedFile("meeting.png", SAMPLE_PHOTO.read_bytes(), "image/png")
    [note] = services.note_upload(user=user, files=[photo], collection=collection,
                                  title="Tuesday meeting", tags=["work"])
    note = Note.objects.get(pk=note.pk)  # recognized inline (NOTES_Q_SYNC)
    line = Line.objects.filter(page__note=note).order_by("order")[1]
    revisions.lines_update(user=user, note=note, edits={line.pk: CORRECTION},
                           base_revision=note.revision)
    note.refresh_from_db()
    return collection, note


def site_pages(user) -> list[SitePage]:
    """Every page of the site, with the objects they show made for `user`."""
    from django.urls import Resolver404, resolve, reverse

    collection, note = site_data(user)
    pages = [
        SitePage("landing", "/", login=False),
        SitePage("log-in", reverse("accounts:login"), login=False),
        SitePage("sign-up", reverse("accounts:signup"), login=False),
        SitePage("password reset", reverse("accounts:password_reset"), login=False),
        SitePage("home", reverse("recognition:home")),
        SitePage("upload", reverse("recognition:upload")),
        SitePage("collections", reverse("recognition:collections")),
        SitePage("collection", reverse("recognition:collection", args=[collection.pk])),
        SitePage("note", reverse("recognition:note", args=[note.pk])),
        SitePage("note text", reverse("recognition:note-text", args=[note.pk])),
        SitePage("note edit", reverse("recognition:note-edit", args=[note.pk])),
        SitePage("note delete", reverse("recognition:note-delete", args=[note.pk])),
        SitePage("history", reverse("recognition:note-history", args=[note.pk])),
        SitePage("revision", reverse("recognition:revision", args=[note.pk, note.revision])),
        SitePage("search", reverse("recognition:search") + f"?q={SEARCH_WORD}"),
        SitePage("import", reverse("recognition:note-import")),
        SitePage("handwriting", reverse("recognition:personal-model")),
        SitePage("profile", reverse("accounts:profile")),
        SitePage("password change", reverse("accounts:password_change")),
        SitePage("404", "/no-such-page/", status=404),
    ]
    try:
        resolve("/capture/")
    except Resolver404:
        pass  # the phone capture page is not there (yet)
    else:
        pages.append(SitePage("capture", "/capture/"))
    return pages


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2 A/AA violations of the page as loaded: id, impact, help, targets."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "targets": [" ".join(map(str, node["target"])) for node in v["nodes"]]}
            for v in results.response["violations"]]


def page_width(page) -> int:
    """The page's full width in CSS pixels (wider than the viewport: it scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth")


def widest_elements(page, limit: int = 3) -> list[str]:
    """The elements that reach furthest past the viewport's right edge (for the reports)."""
    return page.evaluate("""limit => {
        const out = [];
        for (const el of document.querySelectorAll('body *')) {
            const right = el.getBoundingClientRect().right;
            if (right > innerWidth + 1) out.push([right, el.tagName.toLowerCase()
                + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string'
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '')]);
        }
        out.sort((a, b) => b[0] - a[0]);
        return out.slice(0, limit).map(([r, name]) => `${name} (${Math.round(r)} px)`);
    }""", limit)


# The benchmark ----------------------------------------------------------------------------------

def django_site(folder: Path):
    """A fresh site in `folder` served by Django's live-server thread; (url, thread)."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "notesite.settings", "NOTES_DATA_DIR": str(folder),
        "NOTES_SECRET_KEY": "benchmark", "NOTES_DEBUG": "0", "NOTES_Q_SYNC": "1",
        "NOTES_LOG_LEVEL": "ERROR", "DJANGO_ALLOW_ASYNC_UNSAFE": "true"})
    import django
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from django.conf import settings

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    return f"http://localhost:{thread.port}", thread


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def open_pages(context, url: str, pages: list[SitePage], cookie: str):
    """A new tab of `context` for each page, as its visitor has it (the owner's session
    cookie where the page needs a log-in, none otherwise): yields (page, tab) before the tab
    goes there, so the caller can watch it first; the tab closes when the caller moves on."""
    for site_page in pages:
        context.clear_cookies()
        if site_page.login:
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": url}])
        tab = context.new_page()
        yield site_page, tab
        tab.close()


def measure_axe(url: str, pages: list[SitePage], cookie: str) -> list[dict]:
    """axe and the page width of every page, at both viewports in both colour schemes."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for viewport_name, viewport in (("desktop", DESKTOP), ("360 px", PHONE)):
            for scheme in ("light", "dark"):
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                for site_page, tab in open_pages(context, url, pages, cookie):
                    response = tab.goto(url + site_page.path)
                    violations = axe_violations(tab)
                    width = page_width(tab)
                    rows.append({
                        "page": site_page.name, "path": site_page.path,
                        "viewport": viewport_name, "scheme": scheme,
                        "status": response.status, "width": width,
                        "overflows": width > viewport["width"],
                        "widest": widest_elements(tab) if width > viewport["width"] else [],
                        "violations": violations,
                    })
                context.close()
        browser.close()
    return rows


def measure_lighthouse(url: str, pages: list[SitePage], cookie: str) -> list[dict]:
    """Lighthouse's accessibility score of every page, desktop and mobile; [] without it."""
    from tests.browser.conftest import CHROMIUM

    if not LIGHTHOUSE.exists() or CHROMIUM is None:
        return []
    rows = []
    for site_page in pages:
        if site_page.status != 200:
            continue  # Lighthouse audits no page that answers an error status
        for form_factor in ("desktop", "mobile"):
            headers = json.dumps({"Cookie": f"sessionid={cookie}"}) if site_page.login else "{}"
            command = [str(LIGHTHOUSE), url + site_page.path, "--only-categories=accessibility",
                       "--output=json", "--quiet", f"--extra-headers={headers}",
                       "--chrome-flags=--headless --no-sandbox --disable-gpu"]
            if form_factor == "desktop":
                command.append("--preset=desktop")
            done = subprocess.run(command, capture_output=True, text=True, timeout=180,
                                  env={**os.environ, "CHROME_PATH": CHROMIUM}, check=False)
            try:
                report = json.loads(done.stdout)
                score = round(report["categories"]["accessibility"]["score"] * 100)
                failed = sorted(a["id"] for a in report["audits"].values()
                                if a.get("score") == 0 and a.get("scoreDisplayMode") == "binary")
            except (json.JSONDecodeError, KeyError, TypeError):
                score, failed = None, [done.stderr.strip()[-200:]]
            rows.append({"page": site_page.name, "form_factor": form_factor, "score": score,
                         "failed_audits": failed})
    return rows


def report(axe_rows: list[dict], lighthouse_rows: list[dict], seconds: float) -> str:
    """The Markdown report."""
    out = ["# Accessibility and narrow-screen layout of every page", "",
           "`python -m bench.accessibility`: axe-core (WCAG 2.0/2.1 A and AA rules) and the page "
           "width (`document.documentElement.scrollWidth`) of every page in Chromium, at 1280 px "
           "and 360 px, light and dark colour scheme; Lighthouse's accessibility score "
           f"(light scheme). A fresh site, one user with a recognized note. {seconds:.0f} s.",
           "", "## axe violations (critical/serious/moderate/minor) and width", "",
           "| page | desktop light | desktop dark | 360 light | 360 dark | width at 360 px |",
           "|---|---|---|---|---|---|"]
    pages = list(dict.fromkeys(r["page"] for r in axe_rows))
    for name in pages:
        cells = []
        for viewport in ("desktop", "360 px"):
            for scheme in ("light", "dark"):
                [row] = [r for r in axe_rows if (r["page"], r["viewport"], r["scheme"])
                         == (name, viewport, scheme)]
                counts = Counter(v["impact"] for v in row["violations"])
                cells.append("/".join(str(counts.get(i, 0)) for i in IMPACTS))
        phone = [r for r in axe_rows if r["page"] == name and r["viewport"] == "360 px"]
        width = max(r["width"] for r in phone)
        cells.append(f"{width}" + (" **overflows**" if width > PHONE["width"] else ""))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    found = {}
    for row in axe_rows:
        for v in row["violations"]:
            key = (row["page"], v["id"], v["impact"])
            entry = found.setdefault(key, {"help": v["help"], "where": set(), "targets": set()})
            entry["where"].add(f"{row['viewport']} {row['scheme']}")
            entry["targets"].update(v["targets"][:3])
    out += ["", "## Violations in detail", ""]
    if not found:
        out.append("None.")
    for (page, rule, impact), entry in sorted(found.items()):
        out.append(f"- **{page}**: `{rule}` ({impact}) {entry['help']}; "
                   f"{', '.join(sorted(entry['where']))}; "
                   f"{', '.join(f'`{t}`' for t in sorted(entry['targets'])[:4])}")
    overflows = [r for r in axe_rows if r["overflows"]]
    out += ["", "## Pages wider than the viewport", ""]
    out += [f"- {r['page']} ({r['viewport']}, {r['scheme']}): {r['width']} px; "
            f"{', '.join(r['widest'])}" for r in overflows] or ["None."]
    out += ["", "## Lighthouse accessibility scores", ""]
    if not lighthouse_rows:
        out.append("Not run (`npm install lighthouse` in .cache/node and Chromium needed).")
    else:
        out += ["| page | desktop | mobile | failed audits |", "|---|---|---|---|"]
        for name in dict.fromkeys(r["page"] for r in lighthouse_rows):
            rows = {r["form_factor"]: r for r in lighthouse_rows if r["page"] == name}
            failed = sorted(set(rows["desktop"]["failed_audits"] + rows["mobile"]["failed_audits"]))
            out.append(f"| {name} | {rows['desktop']['score']} | {rows['mobile']['score']} | "
                       f"{', '.join(failed) or '-'} |")
    return "\n".join(out) + "\n"


def run(out: Path, lighthouse: bool = True) -> dict:
    """Build the site, measure every page, write OUT.md and OUT.json; the results."""
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="a11y-bench-"))
    try:
        url, thread = django_site(folder)
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user("ada", "ada@example.org", "bench pass 2026")
        pages = site_pages(user)
        cookie = session_cookie(user)
        axe_rows = measure_axe(url, pages, cookie)
        lighthouse_rows = measure_lighthouse(url, pages, cookie) if lighthouse else []
        thread.terminate()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds = time.monotonic() - started
    results = {"axe": axe_rows, "lighthouse": lighthouse_rows, "seconds": round(seconds, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(report(axe_rows, lighthouse_rows, seconds))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/accessibility")
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    run(args.out, lighthouse=not args.no_lighthouse)
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
