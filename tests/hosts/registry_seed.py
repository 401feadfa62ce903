# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Write a one-binary image straight into a docker-registry storage directory.

The test hosts reach no registry, yet Nomad 0.9.1's docker driver always pulls.
tests/hosts/build-image.sh therefore pre-seeds the registry mirror that runs
in each host with the http-echo stand-in, at image build time, before Docker
exists there. Writing the storage layout of distribution 2.8 (Debian's
docker-registry) directly needs no running registry and no Docker on the
machine that builds the image.

    python3 tests/hosts/registry_seed.py --binary http-echo --root ROOTFS/var/lib/docker-registry \\
        --name hashicorp/http-echo --tag latest [--archive http-echo.tar]

The image is one layer holding /<binary name>, which is also its entrypoint.
Everything is written with fixed times and owners, so the same binary always
gives the same digests. --archive also writes the image as a `docker load`
archive, for loading it by hand when the mirror is in doubt.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
CREATED = "1970-01-01T00:00:00Z"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_bytes(members):
    """An uncompressed tar of (name, bytes, mode) with reproducible headers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_image(binary, port):
    name = os.path.basename(binary)
    with open(binary, "rb") as f:
        layer_tar = tar_bytes([(name, f.read(), 0o755)])
    buf = io.BytesIO()
    # mtime=0 and no file name in the header keep the blob digest stable.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(layer_tar)
    layer = buf.getvalue()
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Entrypoint": ["/" + name],
            "ExposedPorts": {"%d/tcp" % port: {}},
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        },
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer_tar)]},
        "history": [{"created": CREATED, "created_by": "tests/hosts/registry_seed.py: COPY %s /" % name}],
    }
    config = json.dumps(config_doc, sort_keys=True, separators=(",", ":")).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": sha256(config)},
            "layers": [{"mediaType": LAYER_TYPE, "size": len(layer), "digest": sha256(layer)}],
        },
        indent=3,
    ).encode()
    return layer_tar, layer, config, manifest


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def link(path, digest):
    write(os.path.join(path, *digest.split(":"), "link"), digest.encode())


def seed_registry(root, name, tag, layer, config, manifest):
    v2 = os.path.join(root, "docker", "registry", "v2")
    for blob in (layer, config, manifest):
        digest = sha256(blob)
        algo, hexdigest = digest.split(":")
        write(os.path.join(v2, "blobs", algo, hexdigest[:2], hexdigest, "data"), blob)
    repo = os.path.join(v2, "repositories", *name.split("/"))
    # The registry serves a blob only through a repository's link to it, and
    # the config blob is fetched as a blob too.
    for blob in (layer, config):
        link(os.path.join(repo, "_layers"), sha256(blob))
    digest = sha256(manifest)
    link(os.path.join(repo, "_manifests", "revisions"), digest)
    write(os.path.join(repo, "_manifests", "tags", tag, "current", "link"), digest.encode())
    link(os.path.join(repo, "_manifests", "tags", tag, "index"), digest)
    return digest


def write_archive(path, name, tag, layer_tar, config):
    config_name = sha256(config).split(":")[1] + ".json"
    layer_name = sha256(layer_tar).split(":")[1] + "/layer.tar"
    index = [{"Config": config_name, "RepoTags": ["%s:%s" % (name, tag)], "Layers": [layer_name]}]
    data = tar_bytes(
        [
            (config_name, config, 0o644),
            (layer_name, layer_tar, 0o644),
            ("manifest.json", json.dumps(index).encode(), 0o644),
        ]
    )
    write(path, data)


def main():
    parser = argparse.ArgumentParser(description="Seed a docker-registry storage directory with a one-binary image.")
    parser.add_argument("--binary", required=True, help="static binary to put at / and run as entrypoint")
    parser.add_argument("--root", required=True, help="the registry's storage rootdirectory")
    parser.add_argument("--name", required=True, help="repository, e.g. hashicorp/http-echo")
    parser.add_argument("--tag", default="latest")
    parser.add_argument("--port", type=int, default=5678, help="port the image declares as exposed")
    parser.add_argument("--archive", help="also write a `docker load` archive here")
    args = parser.parse_args()

    layer_tar, layer, config, manifest = build_image(args.binary, args.port)
    digest = seed_registry(args.root, args.name, args.tag, layer, config, manifest)
    if args.archive:
        write_archive(args.archive, args.name, args.tag, layer_tar, config)
    print("%s:%s %s (layer %d bytes gzipped)" % (args.name, args.tag, digest, len(layer)))


if __name__ == "__main__":
    main()
