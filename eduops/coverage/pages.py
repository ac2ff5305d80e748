"""Coverage pages: the county overview, drill-down to a class, the gap list with export, the disagreements."""
from __future__ import annotations


from flask import Blueprint, Response, render_template, request, url_for

from eduops import ctx
from eduops.clock import local_day
from eduops.coverage import export, gaps, labels, schemas, web
from eduops.ctx import hub_config
from eduops.errors import ApiError

# Access: every view carries @web.guard (who may come in); web.scope() limits what they see.
bp = Blueprint("coverage", __name__, url_prefix="/coverage")

PAGE_SIZE = 200


def render(template: str, **context) -> str:
    return render_template(template, labels=labels.all_labels(), **context)


@bp.app_template_filter("pct")
def pct(ratio: float | None) -> str:
    return "–" if ratio is None else f"{100 * ratio:.1f}%"


@bp.get("/")
@web.guard
def overview():
    rep = web.county_report()
    return render("coverage/node.html", node=rep.node("county", ""), window_days=hub_config().coverage_window_days,
                  empty=not rep.schools)


@bp.get("/areas/<code>")
@web.guard
def area(code: str):
    return render("coverage/node.html", node=web.county_report().node("area", code),
                  window_days=hub_config().coverage_window_days)


@bp.get("/townships/<code>")
@web.guard
def township(code: str):
    return render("coverage/node.html", node=web.county_report().node("township", code),
                  window_days=hub_config().coverage_window_days)


@bp.get("/schools/<code>")
@web.guard
def school(code: str):
    return render("coverage/school.html", node=web.school_report(code).node("school", code))


@bp.get("/classes/<code>")
@web.guard
def school_class(code: str):
    return render("coverage/class.html", detail=web.class_detail(code))


@bp.get("/gaps")
@web.guard
def gap_page():
    """Schools to keep and small-scale schools (measure four consolidates them) on separate tabs."""
    args = request.args.to_dict()
    args.setdefault("small_scale", "no")
    asked = web.query(schemas.GapQuery, args)
    rep, chosen, selected = web.selected_gaps(asked)
    other = web.gap_filter(asked.model_copy(update={"small_scale": "no" if chosen.small_scale else "yes"}), rep)
    other_total = sum(1 for g in rep.gap_list if other.matches(g))
    pages = max(1, -(-len(selected) // PAGE_SIZE))
    page = web.int_arg(args, "page", 1, 1, pages)
    export_args = {k: v for k, v in args.items() if k not in ("page", "small_scale") and v}

    def gap_url(**changes) -> str:
        return url_for(".gap_page", **{k: v for k, v in {**args, **changes}.items() if v})
    return render("coverage/gaps.html", rep=rep, chosen=chosen, args=args, total=len(selected),
                  counts=gaps.gap_counts(selected), other_total=other_total, page=page,
                  pages=pages,
                  rows=[web.gap_json(g, rep) for g in selected[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]],
                  xlsx_url=url_for(".gap_export", fmt="xlsx", **export_args),
                  csv_url=url_for(".gap_export", fmt="csv", **export_args), gap_url=gap_url)


@bp.get("/gaps.<fmt>")
@web.guard
def gap_export(fmt: str):
    """The filtered gap list for Excel; both sides of measure four unless ``small_scale`` picks one."""
    if fmt not in ("xlsx", "csv"):
        raise ApiError(404, "not_found", "The gap list is exported as gaps.xlsx or gaps.csv.")
    rep, _chosen, selected = web.selected_gaps(web.query(schemas.GapQuery, request.args))
    day = local_day(ctx.now(), hub_config().timezone)
    body, mimetype = (export.to_xlsx(selected, rep),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") if fmt == "xlsx" \
        else (export.to_csv(selected, rep), "text/csv")
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="coverage-gaps-{day}.{fmt}"'})


@bp.get("/disagreements")
@web.guard
def disagreement_page():
    asked = web.query(schemas.DisagreementQuery, request.args)
    rep, chosen, found = web.selected_disagreements(asked)
    return render("coverage/disagreements.html", rep=rep, kind=asked.kind or "", chosen=chosen,
                  rows=[web.disagreement_json(d, rep) for d in found])
