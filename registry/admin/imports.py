"""Import of exam and course results: upload, a dry run row by row, then the import, all of it or nothing.

The uploaded file is kept under a random name between the dry run and the import (IMPORT_DIR, by default
instance/imports), so the import reads exactly the file that was checked; it is checked again on import, as
the register may have changed in between.
"""

import csv
import io
import os

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..access import roles
from ..agency.views import me
from ..database import discard
from ..domain import clock
from ..domain import imports as rules
from ..extensions import db
from . import forms
from .views import bp

SHOWN_ROWS = 500
ACTIONS = ("create", "verify", "renew", "change", "unchanged", "error")


def upload_dir() -> str:
    return current_app.config.get("IMPORT_DIR") or os.path.join(current_app.instance_path, "imports")


def action_labels() -> dict:
    return {"create": _("New credential"), "verify": _("Waiting credential verified"),
            "renew": _("Expired credential renewed"), "change": _("New valid-until date"),
            "unchanged": _("Already in the register"), "error": _("Error")}


@bp.get("/imports")
@roles("registry_admin")
def imports():
    return render_template("admin/imports.html", form=forms.UploadForm(formdata=None), columns=rules.COLUMNS)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/imports")
@roles("registry_admin")
def upload_import():
    form = forms.UploadForm()
    file = form.file.data if form.validate_on_submit() else None
    if file is None or not file.filename:
        if not form.errors:
            form.file.errors = [_("Choose the CSV file to import.")]
        return render_template("admin/imports.html", form=form, columns=rules.COLUMNS), 422
    token = rules.save_upload(upload_dir(), file.stream.read(), file.filename)
    location = url_for("admin.import_report", token=token)
    if _wants_json():
        return jsonify(location=location)
    return redirect(location, 303)


def _report_page(token: str, name: str, report, status: int | None = None, stale: bool = False):
    counts = report.counts
    return render_template(
        "admin/import_report.html", token=token, name=name, report=report, counts=counts,
        faults=report.faults, shown=report.rows[:SHOWN_ROWS], shown_limit=SHOWN_ROWS, stale=stale,
        ACTION_LABELS=action_labels(), ACTIONS=ACTIONS), status or (200 if report.ok else 422)


@bp.get("/imports/<token>")
@roles("registry_admin")
def import_report(token: str):
    data, name = rules.load_upload(upload_dir(), token)
    return _report_page(token, name, rules.check(db.session, data, clock.oslo_date()))


@bp.get("/imports/<token>/report.csv")
@roles("registry_admin")
def import_report_csv(token: str):
    data, name = rules.load_upload(upload_dir(), token)
    report = rules.check(db.session, data, clock.oslo_date())
    labels = action_labels()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Line"), _("Result"), "register_number", "name", "type", "language", "date", "valid_until",
                     _("Valid until before"), _("Errors")])
    for line, message in report.file_errors:
        writer.writerow([line, labels["error"], "", "", "", "", "", "", "", str(message)])
    for r in report.rows:
        writer.writerow([r.line, labels["error" if r.errors else r.action], r.register_number or "", _cell(r.name),
                         r.type or "", r.language or "", r.issued_on or "", r.valid_until or "",
                         r.old_valid_until or "", _cell(" ".join(str(e) for e in r.errors))])
    return _csv_response(out.getvalue(), f"report-{os.path.splitext(name)[0][:60] or 'import'}.csv")


def _cell(text: str | None) -> str:
    """Text from the uploaded file, made safe to open in a spreadsheet (no formulas)."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(text: str, filename: str):
    response = current_app.response_class("\ufeff" + text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe(filename)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _safe(filename: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)


@bp.post("/imports/<token>")
@roles("registry_admin")
def run_import(token: str):
    form = forms.ConfirmForm()
    data, name = rules.load_upload(upload_dir(), token)
    if not form.validate_on_submit():
        return _report_page(token, name, rules.check(db.session, data, clock.oslo_date()), 400)
    report = rules.run(db.session, me(), data, name, clock.now(), ip=request.remote_addr)
    if not report.ok:
        discard(db.session())
        return _report_page(token, name, report, 409, stale=True)
    db.session.commit()
    rules.remove_upload(upload_dir(), token)
    counts = report.counts
    flash(_("%(file)s is imported: %(create)s new credentials, %(changed)s changed, %(unchanged)s already there.",
            file=name, create=counts["create"], changed=counts["verify"] + counts["renew"] + counts["change"],
            unchanged=counts["unchanged"]), "success")
    return redirect(url_for("admin.imports"), 303)
