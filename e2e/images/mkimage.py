#!/usr/bin/env python3
"""Builds a single-layer OCI image archive from local files, with no container engine.

    mkimage.py --name localhost/NAME:TAG --out FILE.tar [--entrypoint JSON] [--cmd JSON]
               [--user UID] [--env K=V]... [--workdir DIR] [--port N/tcp]... [--link PATH=TARGET]...
               FILE:DEST[:MODE]... (or DIR/:DEST/ to copy a folder)

The archive is an OCI image layout that `ctr -n k8s.io images import` accepts. Layer entries get
fixed owners and timestamps, so the same inputs give the same digest.
"""
import argparse, gzip, hashlib, io, json, os, sys, tarfile

EPOCH = 0


def add_dirs(tar, seen, path):
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d and d not in seen:
            seen.add(d)
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)


def add_file(tar, seen, src, dest, mode):
    dest = dest.lstrip("/")
    add_dirs(tar, seen, dest)
    with open(src, "rb") as f:
        data = f.read()
    info = tarfile.TarInfo(dest)
    info.size, info.mtime = len(data), EPOCH
    info.mode = mode if mode is not None else (os.stat(src).st_mode & 0o777)
    tar.addfile(info, io.BytesIO(data))


def layer(entries, links):
    raw = io.BytesIO()
    seen = set()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for spec in links:
            path, target = spec.split("=", 1)
            path = path.lstrip("/")
            add_dirs(tar, seen, path)
            seen.add(path)
            info = tarfile.TarInfo(path)
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, EPOCH
            tar.addfile(info)
        for spec in entries:
            src, dest, *rest = spec.split(":")
            mode = int(rest[0], 8) if rest else None
            if os.path.isdir(src):
                for root, dirs, files in os.walk(src):
                    dirs.sort()
                    for name in sorted(files):
                        path = os.path.join(root, name)
                        rel = os.path.relpath(path, src)
                        add_file(tar, seen, path, os.path.join(dest, rel), mode)
            else:
                add_file(tar, seen, src, dest, mode)
        # Kubelet bind-mounts these; having them avoids runc creating them in a read-only rootfs.
        for path, kind in (("etc/hosts", "f"), ("etc/resolv.conf", "f"), ("etc/hostname", "f"), ("tmp/", "d")):
            name = path.rstrip("/")
            if name in seen:
                continue
            add_dirs(tar, seen, name)
            seen.add(name)
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o1777
                tar.addfile(info)
            else:
                info.mode, info.size = 0o644, 0
                tar.addfile(info, io.BytesIO(b""))
    diff = raw.getvalue()
    gz = gzip.compress(diff, compresslevel=6, mtime=0)
    return diff, gz


def blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size, info.mtime = len(data), EPOCH
    out.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint", type=json.loads)
    p.add_argument("--cmd", type=json.loads)
    p.add_argument("--user")
    p.add_argument("--workdir")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--port", action="append", default=[])
    p.add_argument("--link", action="append", default=[], help="a symlink PATH -> TARGET in the image")
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    if ":" not in a.name.rsplit("/", 1)[-1]:
        sys.exit(f"mkimage: image name {a.name!r} needs an explicit tag, like localhost/app:1.0")
    for spec in a.files:
        if not os.path.exists(spec.split(":")[0]):
            sys.exit(f"mkimage: {spec.split(':')[0]}: no such file")

    diff, gz = layer(a.files, a.link)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {k: v for k, v in {
            "Entrypoint": a.entrypoint, "Cmd": a.cmd, "User": a.user, "WorkingDir": a.workdir,
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"] + a.env,
            "ExposedPorts": {port: {} for port in a.port} or None,
            "Labels": {"org.opencontainers.image.source": "faultline"},
        }.items() if v is not None},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(diff).hexdigest()]},
        "history": [{"created_by": "faultline e2e/images/mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w") as out:
        config_digest = blob(out, config_bytes)
        layer_digest = blob(out, gz)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer_digest, "size": len(gz)}],
        }, sort_keys=True).encode()
        manifest_digest = blob(out, manifest)
        index = json.dumps({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "digest": manifest_digest, "size": len(manifest),
                           "annotations": {"io.containerd.image.name": a.name,
                                           "org.opencontainers.image.ref.name": a.name.rsplit(":", 1)[1]}}],
        }).encode()
        for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), EPOCH
            out.addfile(info, io.BytesIO(data))
    os.replace(tmp, a.out)
    print(f"{a.name} -> {a.out} ({os.path.getsize(a.out)} bytes, layer {len(gz)} bytes)")


if __name__ == "__main__":
    main()
