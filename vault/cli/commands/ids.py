"""``evault id check VALUE...``: what each identifier is and whether it is valid."""

from __future__ import annotations

import typer

from vault.cli.output import print_json

__all__ = ["app"]


app = typer.Typer(help="Check 公民身份号码, 统一社会信用代码 and 电子证照标识 values.")


@app.command("check")
def check(
    values: list[str] = typer.Argument(..., help="values to check"),
    as_json: bool = typer.Option(False, "--json", help="print JSON for machines"),
) -> None:
    """Tell for each value what it is and whether it is valid; exit 1 if any is not.

    Holder ID numbers are shown masked in the output.
    """
    from schemas.classify import classify_identifier

    results = [classify_identifier(v) for v in values]
    if as_json:
        print_json([r.model_dump() for r in results])
    else:
        from rich.console import Console

        console = Console(highlight=False)
        for r in results:
            mark = "[green]valid[/]" if r.valid else "[red]invalid[/]"
            kind = r.kind or "unknown"
            why = f": {'; '.join(r.reasons)}" if r.reasons else ""
            console.print(f"{r.value}  {kind}  {mark}{why}", soft_wrap=True)
    if not all(r.valid for r in results):
        raise typer.Exit(1)
