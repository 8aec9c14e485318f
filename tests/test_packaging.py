"""What can be checked of packaging without building it: the README's commands, CI, Docker, the demo files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.DOTALL)[:2]


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.index("```")
    assert text[:first_block].strip() == "# sqlbackfill"
    demo, tests = _readme_commands()
    assert "sqlbackfill init" in demo and "sqlbackfill run" in demo and "\n" not in demo
    assert "pytest" in tests and "\n" not in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    install, run = (part.strip() for part in tests.split("&&"))
    assert install.replace("pip install", "python -m pip install -q") in ci
    assert run in ci.splitlines()


def test_dockerfile_copies_files_that_exist_and_installs_declared_extras() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    copied = [
        path for line in dockerfile.splitlines() if line.startswith("COPY") for path in line.split()[1:-1]
    ]
    assert copied, "the Dockerfile copies the package"
    for path in copied:
        assert (ROOT / path).exists(), path
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"snowflake", "postgres"} <= set(extras)
    assert 'ENTRYPOINT ["sqlbackfill"]' in dockerfile


def test_root_models_are_the_demo_models() -> None:
    demo = ROOT / "sqlbackfill" / "demo" / "models"
    root_models = sorted(p.name for p in (ROOT / "models").glob("*.sql"))
    assert root_models == sorted(p.name for p in demo.glob("*.sql"))
    for name in root_models:
        assert (ROOT / "models" / name).read_text() == (demo / name).read_text()


def test_compose_builds_the_cli_with_the_postgres_extra_and_mounts_a_real_target() -> None:
    compose = (ROOT / "docker" / "compose.yaml").read_text()
    assert "dockerfile: docker/Dockerfile" in compose and 'EXTRAS: "[postgres]"' in compose
    mounted = re.search(r"- \./(\S+):/config/", compose)
    assert mounted is not None
    target = tomllib.loads((ROOT / "docker" / mounted[1]).read_text())["targets"]["postgres"]
    assert target["type"] == "postgres" and "password" not in target and target["password_env"] in compose
    for command in re.findall(r"&&\s+sqlbackfill (\w[\w-]*)|\(sqlbackfill (\w[\w-]*)", compose):
        command = "".join(command)
        assert command in {"init", "load-demo", "run", "status"}


def test_the_license_file_is_the_one_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text and "Copyright 2026 the sqlbackfill authors" in text


def test_the_version_is_written_once_and_everything_reports_it() -> None:
    import importlib.metadata

    from click.testing import CliRunner

    import sqlbackfill
    from sqlbackfill.cli.main import cli

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sqlbackfill.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", sqlbackfill.__version__)
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output == f"sqlbackfill, version {sqlbackfill.__version__}\n"
    # The installed metadata (pip install -e . reads the attribute): reinstall after changing the version.
    assert importlib.metadata.version("sqlbackfill") == sqlbackfill.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert (
        f"## [{sqlbackfill.__version__}]" in changelog or f"Version {sqlbackfill.__version__}," in changelog
    )
