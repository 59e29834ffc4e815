"""``evault holders``: a company's legal representative (法定代表人).

ID numbers are read from standard input, never from the command line (where they would
stay in the shell's history and the process list), and printed masked.
"""

from __future__ import annotations

import sys

import typer

from vault.cli.output import EXIT_USAGE, fail

__all__ = ["app"]


def _read_line(label: str) -> str:
    line = sys.stdin.readline().strip()
    if not line:
        fail(f"give the {label} on standard input (one per line)", EXIT_USAGE)
    return line


app = typer.Typer(help="Holders: a company's legal representative (法人空间).")


@app.command("set-representative")
def set_representative_cmd(
    name: str = typer.Option(..., "--name", help="the representative's name"),
) -> None:
    """Record a company's legal representative, as its 营业执照 names them.

    Reads two lines from standard input: the company's 统一社会信用代码, then the
    representative's 公民身份号码, e.g.
    ``printf '%s\\n' "$CODE" "$ID" | evault holders set-representative --name 张三``.
    """
    from schemas.errors import InvalidValue
    from vault.bootstrap import open_vault
    from vault.errors import NotFound
    from vault.services.agents import set_representative
    from vault.settings import load_settings

    code = _read_line("company's 统一社会信用代码")
    person = _read_line("representative's 公民身份号码")
    if not name.strip():
        fail("--name is empty", EXIT_USAGE)
    vault = open_vault(load_settings())
    try:
        with vault.session() as session:
            done = set_representative(
                session=session,
                crypto=vault.crypto,
                company_code=code,
                person_id=person,
                person_name=name.strip(),
            )
            session.commit()
    except (InvalidValue, NotFound) as exc:
        fail(str(exc))
    finally:
        vault.close()
    shown, rep = done.company, done.representative
    typer.echo(
        f"{shown.masked_id} {shown.name}: legal representative {rep.masked_id} "
        f"{rep.name} ({done.space_id})"
    )
