"""The Kubernetes Indexed Job of examples/kubernetes (issue 19): the manifest says what matters
(Indexed completion, one pod per shard, the template mounted where the command reads it), the
template is a valid fleet config, and for every completion index our own CLI parser accepts the
command line and runs a shard that, together with the others, covers the fleet exactly once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from support import EXAMPLES

from ocpp_station.cli import _parser
from ocpp_station.config import load_config
from ocpp_station.fleet_config import fleet_configs
from ocpp_station.fleet_shard import COMPLETION_INDEX_ENV, parse_shard, shard_indices

MANIFEST = EXAMPLES / "kubernetes" / "fleet-indexed-job.yaml"


def manifest() -> dict[str, Any]:
    # The file is YAML in its JSON subset: comment lines first, then one JSON document.
    text = MANIFEST.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    data: dict[str, Any] = json.loads(body)
    return data


def test_manifest_is_an_indexed_job_with_its_template() -> None:
    doc = manifest()
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    kinds = {item["kind"]: item for item in doc["items"]}
    assert set(kinds) == {"ConfigMap", "Job"}
    job, config_map = kinds["Job"], kinds["ConfigMap"]
    assert job["apiVersion"] == "batch/v1" and config_map["apiVersion"] == "v1"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] >= 2  # one pod per shard, all at once
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"] == ["ocpp-station"]
    args = _parser().parse_args(container["args"])
    assert args.command == "fleet" and args.shard == f"auto/{spec['completions']}"
    # --workers matches the CPU the pod may use (os.cpu_count() in a pod is the node's).
    assert str(args.workers) == container["resources"]["limits"]["cpu"]
    # The config the command reads is the ConfigMap's key, mounted read-only.
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    folder, key = str(Path(args.config).parent), Path(args.config).name
    mount = mounts[folder]
    assert mount.get("readOnly") is True
    assert volumes[mount["name"]]["configMap"]["name"] == config_map["metadata"]["name"]
    assert key in config_map["data"]


def test_template_is_a_valid_fleet_config_with_writable_data(tmp_path: Path) -> None:
    doc = manifest()
    config_map = next(i for i in doc["items"] if i["kind"] == "ConfigMap")
    job = next(i for i in doc["items"] if i["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = _parser().parse_args(container["args"])
    path = tmp_path / Path(args.config).name
    path.write_text(config_map["data"][path.name])
    config = load_config(path)
    assert config.hal_backend == "sim"
    assert fleet_configs(config, args.count, range(1, 3))  # the template makes a fleet
    # Each station's data lives under data_dir: a writable volume of the pod.
    volumes = {v["name"]: v for v in pod["volumes"]}
    writable = {m["mountPath"]: m for m in container["volumeMounts"] if not m.get("readOnly")}
    assert str(config.data_dir) in writable
    assert "emptyDir" in volumes[writable[str(config.data_dir)]["name"]]


def test_every_completion_index_runs_its_own_shard_and_together_all() -> None:
    doc = manifest()
    job = next(i for i in doc["items"] if i["kind"] == "Job")
    completions = job["spec"]["completions"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    seen: Counter[int] = Counter()
    count = None
    for index in range(completions):  # what Kubernetes sets in each pod
        args = _parser().parse_args(container["args"])
        shard = parse_shard(args.shard, {COMPLETION_INDEX_ENV: str(index)})
        assert (shard.index, shard.total) == (index, completions)
        count = args.count
        seen.update(shard_indices(args.count, shard))
    assert count is not None and count >= completions
    assert seen == Counter(range(1, count + 1))  # every station on exactly one pod
