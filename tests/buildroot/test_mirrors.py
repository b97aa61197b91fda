from __future__ import annotations

from pathlib import Path

import pytest

from skiffbuild.buildroot.mirrors import ENV_VAR, MirrorMap, is_url, load_mirror_map, normalise_url
from skiffbuild.core.errors import SkiffError

UPSTREAM = "https://gitlab.com/buildroot.org/buildroot.git"


def write_map(tmp_path: Path, text: str, name: str = "mirrors.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unset_env_gives_empty_map() -> None:
    mirrors = MirrorMap.from_env({})
    assert not mirrors
    assert mirrors.candidates(UPSTREAM) == (UPSTREAM,)
    assert MirrorMap.from_env({ENV_VAR: ""}).candidates(UPSTREAM) == (UPSTREAM,)


def test_alternatives_come_first_in_order(tmp_path: Path) -> None:
    path = write_map(
        tmp_path,
        f"{UPSTREAM}:\n  - /srv/mirrors/buildroot\n  - https://git.example.com/buildroot.git\n",
    )
    mirrors = MirrorMap.from_env({ENV_VAR: str(path)})
    assert mirrors.source == path
    assert mirrors.candidates(UPSTREAM) == (
        "/srv/mirrors/buildroot",
        "https://git.example.com/buildroot.git",
        UPSTREAM,
    )
    assert mirrors.candidates("https://example.org/other.git") == ("https://example.org/other.git",)


@pytest.mark.parametrize(
    ("key", "asked"),
    [
        ("https://x/y.git", "https://x/y"),
        ("https://x/y", "https://x/y.git"),
        ("https://x/y/", "https://x/y.git"),
        ("https://x/y.git/", "https://x/y/"),
    ],
)
def test_url_matching_ignores_git_suffix_and_slash(tmp_path: Path, key: str, asked: str) -> None:
    path = write_map(tmp_path, f"{key}:\n  - /alt\n")
    assert load_mirror_map(path).candidates(asked) == ("/alt", asked)


def test_normalise_url() -> None:
    assert normalise_url("https://x/y.git/") == "https://x/y"
    assert normalise_url("https://x/y.github") == "https://x/y.github"


def test_relative_and_home_paths_are_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    conf = tmp_path / "conf"
    conf.mkdir()
    path = write_map(
        conf,
        f"{UPSTREAM}:\n  - mirrors/br\n  - ../up/br\n  - ~/br\n  - git@example.com:br.git\n",
    )
    alts = load_mirror_map(path).candidates(UPSTREAM)[:-1]
    assert alts == (
        str(conf / "mirrors/br"),
        str(tmp_path / "up/br"),
        str(tmp_path / "home/br"),
        "git@example.com:br.git",
    )


def test_candidates_drop_duplicates_and_the_upstream_itself(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://x/y:\n  - /a\n  - /a/\n  - https://x/y.git\n")
    assert load_mirror_map(path).candidates("https://x/y") == ("/a", "https://x/y")


def test_empty_file_is_an_empty_map(tmp_path: Path) -> None:
    assert not load_mirror_map(write_map(tmp_path, "# nothing yet\n"))


def test_is_url() -> None:
    assert is_url("https://x/y")
    assert is_url("file:///srv/x")
    assert is_url("git@github.com:a/b.git")
    assert not is_url("/srv/x")
    assert not is_url("relative/dir")
    assert not is_url("~/x")


def test_missing_file_names_the_env_var(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SkiffError) as info:
        MirrorMap.from_env({ENV_VAR: str(missing)})
    assert ENV_VAR in info.value.message
    assert str(missing) in info.value.message


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = write_map(tmp_path, "# comment\n- /srv/a\n- /srv/b\n")
    with pytest.raises(SkiffError) as info:
        load_mirror_map(path)
    assert f"{path}:2:" in info.value.message
    assert "mapping" in info.value.message


def test_value_not_a_list(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://a/b:\n  - /ok\nhttps://c/d: /srv/d\n")
    with pytest.raises(SkiffError) as info:
        load_mirror_map(path)
    assert f"{path}:3: https://c/d: must be a list" in info.value.message


def test_list_item_not_a_string(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://a/b:\n  - /ok\n  - {x: 1}\n  - 42\n")
    with pytest.raises(SkiffError) as info:
        load_mirror_map(path)
    message = info.value.message
    assert f"{path}:3: https://a/b[1]: must be a string" in message
    assert f"{path}:4: https://a/b[2]: must be a string" in message


def test_duplicate_keys_after_normalisation(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://a/b:\n  - /x\nhttps://a/b.git/:\n  - /y\n")
    with pytest.raises(SkiffError) as info:
        load_mirror_map(path)
    assert f"{path}:3:" in info.value.message
    assert "line 1" in info.value.message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://a/b:\n  - /x\n  - [unclosed\n")
    with pytest.raises(SkiffError) as info:
        load_mirror_map(path)
    assert str(path) + ":" in info.value.message


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    path = write_map(tmp_path, "https://a/b:\n  - !!python/object/apply:os.system ['true']\n")
    with pytest.raises(SkiffError):
        load_mirror_map(path)


def test_rewrite_maps_a_site_prefix_for_downloads(tmp_path: Path) -> None:
    mirror_file = tmp_path / "m.yaml"
    mirror_file.write_text(
        "https://sources.example.invalid:\n  - http://127.0.0.1:8000/all\n"
        "https://sources.example.invalid/busybox:\n  - /srv/bb\n  - http://10.0.0.1/bb/\n")
    mirrors = load_mirror_map(mirror_file)
    assert mirrors.rewrite("https://sources.example.invalid/busybox/busybox-1.37.0.tar.bz2") == (
        "file:///srv/bb/busybox-1.37.0.tar.bz2",
        "http://10.0.0.1/bb/busybox-1.37.0.tar.bz2",
        "http://127.0.0.1:8000/all/busybox/busybox-1.37.0.tar.bz2",
    )
    assert mirrors.rewrite("https://sources.example.invalidx/a.tar.gz") == ()
    assert mirrors.rewrite("https://other.example.invalid/a.tar.gz") == ()
