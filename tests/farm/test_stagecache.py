"""The shared stage cache end to end (slow): a builder publishes compile:<ws>'s outputs to a
real HTTP store on 127.0.0.1; a clean worker restores them instead of running make and
assembles an image with the same SHA256SUMS; a tampered entry is refused and rebuilt; a
store that is down, or stops in the middle of a run, fails nothing."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, serve_sources
from httpserver import Fault, FaultyServer, refused_url
from keys import ed25519_keypair

pytestmark = pytest.mark.slow

WS = "qemu-x86_64-lean"


@dataclass
class Farm:
    base: Path
    tree: PinnedTree
    store: FaultyServer
    sources: FaultyServer
    private: Path
    public: Path
    builder: DoitProject

    def worker(self, name: str, url: str | None = None) -> DoitProject:
        """A clean project (another machine) trusting the builder's key; its make calls
        are logged to make.log."""
        project = make_doit_project(self.base / name, self.tree)
        project.env["SKIFFBUILD_PRIMARY_SITE"] = self.sources.url
        project.env["SKIFFBUILD_CACHE_URL"] = url or self.store.url + "/cache"
        project.env["SKIFFBUILD_CACHE_TRUST"] = str(self.public)
        shim = self.base / name / "bin"
        shim.mkdir()
        (shim / "make").write_text(f'#!/bin/sh\necho "$*" >> {self.base / name}/make.log\n'
                                   'exec /usr/bin/make "$@"\n')
        (shim / "make").chmod(0o755)
        project.env["PATH"] = f"{shim}:{project.env['PATH']}"
        return project


def _sums(project: DoitProject) -> str:
    return (project.root / "workspaces" / WS / "image" / "SHA256SUMS").read_text()


def _builds(project: DoitProject) -> list[str]:
    """make calls that build: compile:<ws>'s, in the workspace's output directory (not
    config:<ws>'s defconfig in the tree, nor a query such as show-info)."""
    log = project.root / "make.log"
    lines = log.read_text().splitlines() if log.is_file() else []
    output = str(project.root / "workspaces" / WS / "output")
    return [line for line in lines if line.startswith(f"-C {output} ")
            and not {"show-info", "printvars", "-s"} & set(line.split())]


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> Iterator[Farm]:
    base = tmp_path_factory.mktemp("farm")
    private, public = ed25519_keypair(base, "builder")
    store = FaultyServer(writable=True)
    sources = serve_sources(base / "site")
    builder = make_doit_project(base / "builder", testtree)
    builder.env.update(SKIFFBUILD_PRIMARY_SITE=sources.url,
                       SKIFFBUILD_CACHE_URL=store.url + "/cache",
                       SKIFFBUILD_CACHE_TRUST=str(public), SKIFFBUILD_CACHE_SIGN=str(private))
    built = builder.skiffbuild("build", WS)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "stage cache miss" in built.stdout + built.stderr
    assert "published to the stage cache" in built.stdout + built.stderr
    try:
        yield Farm(base, testtree, store, sources, private, public, builder)
    finally:
        store.stop()
        sources.stop()


def _entry(farm: Farm) -> str:
    (path,) = [p for p in farm.store.files if p.startswith("/cache/ac/") and p.endswith(".json")]
    return path


def test_a_clean_worker_restores_instead_of_building(farm: Farm) -> None:
    worker = farm.worker("clean")
    puts = sum(n for (method, _path), n in farm.store.methods.items() if method == "PUT")
    result = worker.skiffbuild("build", WS)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "restored from the stage cache" in out and "Buildroot was not run" in out
    # A worker without the signing key only reads.
    assert sum(n for (method, _path), n in farm.store.methods.items() if method == "PUT") \
        == puts
    assert _builds(worker) == []
    assert not (worker.root / "workspaces" / WS / "logs" / "compile.log").exists()
    assert _sums(worker) == _sums(farm.builder)
    # What the CI pipelines of `skiffbuild farm ci` keep is what image:<ws> publishes.
    from skiffbuild.farm.matrix import PUBLISHED

    for name in PUBLISHED:
        assert (worker.root / "workspaces" / WS / "image" / name).is_file(), name
    # What image:<ws> measured came from the restored target/ and file lists.
    size = json.loads((worker.root / "workspaces" / WS / "image" / "size.json").read_text())
    built = json.loads((farm.builder.root / "workspaces" / WS / "image" / "size.json")
                       .read_text())
    assert size["rootfs"] == built["rootfs"] and size["rootfs"]["packages"]
    # Nothing to do the second time: doit's own state says compile is up to date.
    again = worker.skiffbuild("build", WS)
    assert again.returncode == 0 and "restored" not in again.stdout + again.stderr

    # A local change later builds from scratch: output/ holds no package build dirs.
    state = worker.root / "workspaces" / WS / "state" / "restored.json"
    assert state.is_file()
    overlay = worker.root / "layers" / "virt" / "lean" / "root_overlay" / "etc" / "issue"
    overlay.parent.mkdir(parents=True, exist_ok=True)
    overlay.write_text("changed on this worker\n")
    changed = worker.skiffbuild("build", WS)
    out = changed.stdout + changed.stderr
    assert changed.returncode == 0, out
    assert "output/ was restored from the stage cache: full rebuild (make clean)" in out
    assert "stage cache miss" in out
    assert any(line.endswith(" clean") for line in _builds(worker)), _builds(worker)
    assert not state.exists()
    target = worker.root / "workspaces" / WS / "output" / "target" / "etc" / "issue"
    assert target.read_text() == "changed on this worker\n"


def test_a_tampered_entry_is_refused_and_built_locally(farm: Farm) -> None:
    path = _entry(farm)
    original = farm.store.files[path]
    envelope = json.loads(original)
    envelope["entry"] = envelope["entry"].replace('"workspace": "', '"workspace": "x', 1)
    farm.store.files[path] = json.dumps(envelope).encode()
    try:
        worker = farm.worker("tampered")
        result = worker.skiffbuild("build", WS)
    finally:
        farm.store.files[path] = original
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "refused: its signature is by no trusted key (or it was altered): building " \
           "locally" in out
    assert _builds(worker), "the refused entry was built locally"
    assert _sums(worker) == _sums(farm.builder)


def test_unsigned_untrusted_or_corrupt_entries_are_refused(farm: Farm, tmp_path: Path) -> None:
    from skiffbuild.farm.stagecache import CacheSettings, lookup, restore
    from skiffbuild.farm.store import Store

    key = _entry(farm).rsplit("/", 1)[1].removesuffix(".json")
    store = Store(farm.store.url + "/cache")
    _, stranger = ed25519_keypair(tmp_path, "stranger")
    assert lookup(key, CacheSettings(store, (stranger,))).reason == \
        "its signature is by no trusted key (or it was altered)"
    assert lookup(key, CacheSettings(store, ())).reason == \
        "no key is trusted (SKIFFBUILD_CACHE_TRUST)"
    found = lookup(key, CacheSettings(store, (stranger, farm.public)))
    assert found.entry is not None and found.entry.signer == str(farm.public)
    stored = farm.store.files[_entry(farm)]
    unsigned = {**json.loads(stored), "signature": None}
    farm.store.files[_entry(farm)] = json.dumps(unsigned).encode()
    try:
        assert lookup(key, CacheSettings(store, (farm.public,))).reason == \
            "the entry is not signed"
    finally:
        farm.store.files[_entry(farm)] = stored
    # The signed entry names its blob's sha256: other bytes are refused, nothing changes.
    blob = f"/cache/cas/{found.entry.data['blob']['sha256'][:2]}/" \
           f"{found.entry.data['blob']['sha256']}"
    farm.store.faults[blob] = Fault(corrupt=True)
    worker = farm.worker("corrupt-blob")
    try:
        from skiffbuild.core.project import Project
        from skiffbuild.model.plan import load_plan

        assert worker.doit("config:" + WS).returncode == 0
        plan = load_plan(Project.discover(worker.root, environ={}))
        ws = plan.workspaces[WS]
        before = sorted(os.listdir(ws.paths.output))
        restored, why = restore(found.entry, ws, CacheSettings(store, (farm.public,)))
    finally:
        del farm.store.faults[blob]
    assert (restored, why) == (False, "its blob is missing from the store or not the bytes "
                                      "signed")
    assert sorted(os.listdir(ws.paths.output)) == before
    assert not (ws.paths.state / "restored.json").exists()


def test_a_store_that_is_down_fails_nothing(farm: Farm) -> None:
    worker = farm.worker("down", url=refused_url() + "/cache")
    worker.env["SKIFFBUILD_CACHE_SIGN"] = str(farm.private)
    result = worker.skiffbuild("build", WS)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "the store is unreachable" in out and "building locally, without the stage " \
           "cache" in out
    assert "warning: not published to the stage cache" in out
    assert _sums(worker) == _sums(farm.builder)


def test_a_store_stopping_mid_run_loses_nothing(farm: Farm) -> None:
    """The store answers the lookup (a miss), then stops while make runs: the build
    finishes, its publication is skipped with a warning, the image is the same."""
    store = FaultyServer(writable=True)
    worker = farm.worker("stopping", url=store.url + "/cache")
    worker.env["SKIFFBUILD_CACHE_SIGN"] = str(farm.private)
    log = worker.root / "make.log"

    def stop_when_make_runs() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not _builds(worker):
            time.sleep(0.2)
        store.stop()

    stopper = threading.Thread(target=stop_when_make_runs, daemon=True)
    stopper.start()
    result = worker.skiffbuild("build", WS)
    stopper.join(5)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "stage cache miss" in out and "warning: not published to the stage cache" in out
    assert log.is_file() and _sums(worker) == _sums(farm.builder)
    assert not any(p.startswith("/cache/ac/") for p in store.files)  # no half entry
    assert stat.S_ISREG((worker.root / "workspaces" / WS / "image" / "SHA256SUMS")
                        .stat().st_mode)


def test_cache_status_push_and_pull(farm: Farm) -> None:
    status = farm.builder.skiffbuild("cache", "status", WS, "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["hit"] and report["state"] == "in the store, signed by builder.pub"
    assert report["key"] == _entry(farm).rsplit("/", 1)[1].removesuffix(".json")
    assert (report["output"], report["publishes"]) == ("built here", True)
    secret = farm.store.url.replace("http://", "http://ci:TOKEN@") + "/cache"
    shown = farm.builder.skiffbuild("cache", "status", WS, "--url", secret)
    assert shown.returncode == 0 and "store:      http://ci:***@127.0.0.1" in shown.stdout
    assert "TOKEN" not in shown.stdout + shown.stderr

    worker = farm.worker("pull")
    pushed = worker.skiffbuild("cache", "push", WS)
    assert pushed.returncode == 2 and "error: cache push signs what it publishes: no " \
        "signing key\nhint: set SKIFFBUILD_CACHE_SIGN=builder.pem" in pushed.stderr
    pulled = worker.skiffbuild("cache", "pull", WS)
    assert pulled.returncode == 0, pulled.stderr
    assert _builds(worker) == [] and "restored from the stage cache" in pulled.stderr
    status = worker.skiffbuild("cache", "status", WS)
    assert "output:     restored from the stage cache" in status.stdout
    # What this machine only restored is not this builder's to sign.
    worker.env["SKIFFBUILD_CACHE_SIGN"] = str(farm.private)
    refused = worker.skiffbuild("cache", "push", WS)
    assert refused.returncode == 2 and ("error: qemu-x86_64-lean: its outputs were restored "
                                        "from the stage cache, not built here") in refused.stderr

    # The builder pushes its own build to another store, which then has a trusted entry.
    other = FaultyServer(writable=True)
    try:
        pushed = farm.builder.skiffbuild("cache", "push", WS, "--url", other.url)
        assert pushed.returncode == 0, pushed.stderr
        assert f"{WS}: published to {other.url} (key {report['key']}," in pushed.stdout
        assert f"/ac/{report['key']}.json" in other.files
        assert any(path.startswith("/sources/") for path in other.files)
        again = farm.builder.skiffbuild("cache", "status", WS, "--url", other.url, "--json")
        assert json.loads(again.stdout)["hit"] is True
    finally:
        other.stop()

    # A store without the entry: pull fails and builds nothing.
    empty = FaultyServer()
    try:
        other = farm.worker("pull-miss", url=empty.url)
        missed = other.skiffbuild("cache", "pull", WS)
    finally:
        empty.stop()
    assert missed.returncode == 1
    assert "not restored from the stage cache: stage cache miss (key " in missed.stderr
    assert _builds(other) == []


def test_a_worker_gets_its_sources_from_the_store(farm: Farm) -> None:
    """No download site but the store: the builder published every verified source."""
    assert any(p.startswith("/cache/sources/") for p in farm.store.files)
    worker = farm.worker("sources")
    del worker.env["SKIFFBUILD_PRIMARY_SITE"]
    result = worker.skiffbuild("build", WS)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"from {farm.store.url}/cache/sources/" in out
    assert _sums(worker) == _sums(farm.builder)


def test_a_bad_signing_key_fails_before_the_build(farm: Farm) -> None:
    worker = farm.worker("badkey")
    worker.env["SKIFFBUILD_CACHE_SIGN"] = str(farm.base / "missing.pem")
    result = worker.skiffbuild("build", WS)
    assert result.returncode == 2
    assert f"error: {farm.base / 'missing.pem'}: cannot read the signing key" in \
        result.stdout + result.stderr
    assert _builds(worker) == []
