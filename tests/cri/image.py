#!/usr/bin/python3
"""image.py OUT.tar NAME: writes an OCI image archive (oci-layout, index.json, blobs) holding
Debian's static busybox with a link per applet, for `ctr images import`. The one image serves
as the pod sandbox image (its default command sleeps forever, as a pause container does) and
as the app image (the tests give every container its own command)."""
import hashlib, io, json, subprocess, sys, tarfile

BUSYBOX = "/bin/busybox"


def layer_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add_dir(name, mode=0o755):
            i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = mode; t.addfile(i)

        def add_file(name, data, mode=0o644):
            i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode
            t.addfile(i, io.BytesIO(data))
        for d in ("bin", "etc", "proc", "sys", "dev", "root", "var", "var/www"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        with open(BUSYBOX, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            if a == "busybox":
                continue
            i = tarfile.TarInfo("bin/" + a); i.type = tarfile.SYMTYPE; i.linkname = "busybox"
            i.mode = 0o777; t.addfile(i)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file("var/www/index.html", b"husk-cri\n")
    return buf.getvalue()


def main():
    out, name = sys.argv[1], sys.argv[2]
    layer = layer_tar()
    ldig = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sleep", "infinity"], "WorkingDir": "/",
                   "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [ldig]},
    }, sort_keys=True).encode()
    cdig = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdig, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": ldig, "size": len(layer)}],
    }, sort_keys=True).encode()
    mdig = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": mdig, "size": len(manifest),
                       "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"io.containerd.image.name": name,
                                       "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}],
    }, sort_keys=True).encode()
    with tarfile.open(out, "w") as t:
        def add(n, data):
            i = tarfile.TarInfo(n); i.size = len(data); i.mode = 0o644
            t.addfile(i, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for dig, data in ((ldig, layer), (cdig, config), (mdig, manifest)):
            add("blobs/sha256/" + dig.split(":")[1], data)


if __name__ == "__main__":
    main()
