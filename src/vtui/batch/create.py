"""`vtui create`: a new guest from options, through the same core as the TUI's form
(vtui.core.guests.create): checked first, every problem one line; then volumes,
definition and start, all undone if a step fails. --dry-run prints the domain XML
and the equivalent virt-install line and creates nothing.

    vtui create --host H --name web --memory 2G --vcpus 2 --disk pool=default,size=20G \\
        --network default --cloud-image default/debian-12.qcow2 --ssh-key ~/.ssh/id_ed25519.pub \\
        --user ann --start
"""

from __future__ import annotations

import argparse
import sys

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.create import (
    CLOUD_IMAGE,
    CUSTOM_CPU,
    EXISTING_DISK,
    GRAPHICS,
    IMPORT,
    ISO,
    KERNEL,
    NEW_DISK,
    NO_DISK,
    NO_NETWORK,
    PXE,
    URL,
    CloudInitAnswer,
    CreateRefused,
    DiskAnswer,
    GuestAnswers,
    GuestPlan,
    NetworkAnswer,
    SourceAnswer,
    create_guest,
    domain_xml,
    plan_guest,
    virt_install_line,
)
from vtui.core.host import Host
from vtui.core.storage import BadInput, Transfer, Transfers, parse_size
from vtui.core.uri import default_uri

from .output import error_line, print_json
from .parsing import (
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    UsageError,
    add_connection_options,
    new_parser,
    positive_int,
)
from .records import FORMAT_VERSION
from .session import Session, add_host_text, build_fleet, finish_fleet
from .volume import ProgressLines

SOURCES = (
    "cloud_image",
    "cloud_image_file",
    "iso",
    "iso_file",
    "location",
    "import_",
    "kernel",
    "pxe",
)


def create_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "create",
        "Create a guest: checked against the host first, then its volumes (uploads, the "
        "cloud-init seed), its definition and (--start) its start; a failing step removes "
        "what was made.",
    )
    g = parser.add_argument_group("guest")
    g.add_argument(
        "--host",
        metavar="HOST",
        help="where: a -c/--demo host's name, saved host, ssh target or alias",
    )
    g.add_argument("--name", required=True, help="the guest's name")
    g.add_argument("--title", default="", help="a one-line title")
    g.add_argument("--description", default="", help="a free-form description")
    g.add_argument(
        "--memory",
        default="1G",
        metavar="SIZE",
        help="e.g. 2G, 512M; a bare number is MiB (default 1G)",
    )
    g.add_argument("--vcpus", type=positive_int, default=1, help="virtual CPUs (default 1)")
    g.add_argument(
        "--cpu", metavar="MODE", help="host-model, host-passthrough, a CPU model name, or default"
    )
    g.add_argument(
        "--os",
        default="",
        metavar="ID",
        help="osinfo short id (debian12, win11...) or linux, linux-old, windows, other",
    )
    g.add_argument("--arch", default="", help="guest architecture (default: the host's)")
    g.add_argument("--machine", default="", help="machine type (default: what suits the OS)")
    g.add_argument(
        "--virt-type",
        default="",
        choices=("kvm", "qemu"),
        help="kvm (default where available) or qemu (TCG emulation)",
    )
    g.add_argument("--firmware", default="bios", choices=("bios", "efi"), help="default bios")
    g.add_argument("--secure-boot", action="store_true", help="UEFI with Secure Boot")
    g.add_argument("--uuid", default="", help="the guest's UUID (default: libvirt makes one)")
    d = parser.add_argument_group("devices")
    d.add_argument(
        "--disk",
        default="",
        metavar="SPEC",
        help="pool=P,size=10G[,format=qcow2|raw][,bus=B] | vol=POOL/VOLUME | path=/host/path | none (default: 10G qcow2 in the default pool)",
    )
    d.add_argument(
        "--network",
        default="default",
        metavar="SPEC",
        help="NAME | network=NAME | bridge=BR | macvtap=IFACE | none, plus ,model=M,mac=MAC (default: network default)",
    )
    d.add_argument(
        "--graphics",
        default="none",
        choices=GRAPHICS,
        help="display (default none: serial console only)",
    )
    d.add_argument("--no-agent", action="store_true", help="no guest agent channel")
    d.add_argument("--no-rng", action="store_true", help="no virtio random number generator")
    s = parser.add_argument_group("install source (one of)").add_mutually_exclusive_group()
    s.add_argument(
        "--cloud-image",
        metavar="VOL",
        help="POOL/VOLUME (or host path) backing a new qcow2 overlay",
    )
    s.add_argument("--cloud-image-file", metavar="FILE", help="a local cloud image, uploaded first")
    s.add_argument("--iso", metavar="VOL", help="installer ISO: POOL/VOLUME or a path on the host")
    s.add_argument("--iso-file", metavar="FILE", help="a local ISO, uploaded first")
    s.add_argument("--location", metavar="URL", help="network install tree (http, https, ftp)")
    s.add_argument(
        "--import",
        dest="import_",
        metavar="VOL",
        help="boot an existing disk image: POOL/VOLUME or a path",
    )
    s.add_argument(
        "--kernel", metavar="PATH", help="direct kernel boot: the kernel's path on the host"
    )
    s.add_argument("--pxe", action="store_true", help="boot from the network")
    b = parser.add_argument_group("boot")
    b.add_argument(
        "--initrd",
        default="",
        metavar="PATH",
        help="with --kernel: the initrd on the host; with --location: its path in the tree",
    )
    b.add_argument(
        "--location-kernel",
        default="",
        metavar="PATH",
        help="with --location: the kernel's path in the tree",
    )
    b.add_argument(
        "--cmdline", "--extra-args", default="", metavar="ARGS", help="the kernel's command line"
    )
    b.add_argument(
        "--upload-pool",
        default="",
        metavar="POOL",
        help="where uploads and the seed go (default: the disk's pool)",
    )
    c = parser.add_argument_group("cloud-init (with --cloud-image)")
    c.add_argument("--user", default="", help="a user to create (sudo, your keys)")
    c.add_argument(
        "--ssh-key",
        action="append",
        default=[],
        metavar="FILE",
        help="a public key file (repeatable)",
    )
    c.add_argument(
        "--password-file",
        metavar="FILE",
        help="the user's password, first line of FILE (hashed before use)",
    )
    c.add_argument("--hostname", default="", help="default: the guest's name")
    c.add_argument(
        "--packages", default="", metavar="P1,P2", help="packages to install on first boot"
    )
    c.add_argument(
        "--static-ip", default="", metavar="CIDR", help="e.g. 192.168.122.50/24 (default DHCP)"
    )
    c.add_argument("--gateway", default="")
    c.add_argument(
        "--dns", action="append", default=[], metavar="IP", help="DNS server (repeatable)"
    )
    c.add_argument("--user-data", metavar="FILE", help="your own user-data instead of vtui's")
    parser.add_argument("--start", action="store_true", help="start the guest once created")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the XML and the virt-install line; create nothing",
    )
    parser.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    add_connection_options(parser, positional_hosts=False)
    return parser


def _memory(text: str) -> int:
    try:
        return int(text) * 1024**2 if text.strip().isdigit() else parse_size(text)
    except BadInput as exc:
        raise UsageError(f"create: --memory: {exc.message}") from None


def _spec(text: str, what: str) -> dict[str, str]:
    """'pool=P,size=10G' -> {'pool': 'P', 'size': '10G'}; a bare first word is 'name'."""
    found: dict[str, str] = {}
    for index, part in enumerate(p for p in text.split(",") if p):
        key, equals, value = part.partition("=")
        if not equals and index == 0:
            key, value = "name", key
        elif not equals:
            raise UsageError(f"create: {what}: {part!r} is not key=value")
        found[key.strip()] = value.strip()
    return found


def _disk(text: str) -> DiskAnswer:
    if text.strip() == "none":
        return DiskAnswer(mode=NO_DISK)
    spec = _spec(text, "--disk")
    unknown = set(spec) - {"pool", "size", "format", "bus", "vol", "path"}
    if unknown:
        raise UsageError(
            f"create: --disk: unknown {', '.join(sorted(unknown))} (pool, size, format, bus, vol, path)"
        )
    if "vol" in spec or "path" in spec:
        return DiskAnswer(
            mode=EXISTING_DISK,
            volume=spec.get("vol") or spec.get("path", ""),
            bus=spec.get("bus", ""),
        )
    try:
        size = parse_size(spec["size"]) if "size" in spec else DiskAnswer().size
    except BadInput as exc:
        raise UsageError(f"create: --disk: {exc.message}") from None
    return DiskAnswer(
        mode=NEW_DISK,
        pool=spec.get("pool", ""),
        size=size,
        format=spec.get("format", "qcow2"),
        bus=spec.get("bus", ""),
    )


def _network(text: str) -> NetworkAnswer:
    if text.strip() == "none":
        return NetworkAnswer(kind=NO_NETWORK)
    spec = _spec(text, "--network")
    kinds = [k for k in ("name", "network", "bridge", "macvtap") if k in spec]
    if len(kinds) != 1 or set(spec) - {"name", "network", "bridge", "macvtap", "model", "mac"}:
        raise UsageError(
            f"create: --network: {text!r} is not NAME, network=, bridge= or macvtap= (with model=, mac=)"
        )
    kind = "network" if kinds[0] == "name" else kinds[0]
    return NetworkAnswer(
        kind=kind, source=spec[kinds[0]], model=spec.get("model", ""), mac=spec.get("mac", "")
    )


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise VtuiError(
            f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None


def _source(args: argparse.Namespace) -> SourceAnswer:
    source = SourceAnswer(kind=PXE, upload_pool=args.upload_pool, cmdline=args.cmdline)
    if args.cloud_image or args.cloud_image_file:
        source.kind, source.volume, source.local_file = (
            CLOUD_IMAGE,
            args.cloud_image or "",
            args.cloud_image_file or "",
        )
    elif args.iso or args.iso_file:
        source.kind, source.volume, source.local_file = ISO, args.iso or "", args.iso_file or ""
    elif args.location:
        source.kind, source.url = URL, args.location
        source.kernel, source.initrd = args.location_kernel, args.initrd
    elif args.import_:
        source.kind, source.volume = IMPORT, args.import_
    elif args.kernel:
        source.kind, source.kernel, source.initrd = KERNEL, args.kernel, args.initrd
    elif not args.pxe:
        raise UsageError(
            "create: say how the guest gets its OS: --cloud-image(-file), --iso(-file), --location, --import, --kernel or --pxe"
        )
    return source


def answers_from(args: argparse.Namespace) -> GuestAnswers:
    cpu = args.cpu or ""
    cpu_mode, cpu_model = (
        (cpu, "") if cpu in ("", "host-model", "host-passthrough") else (CUSTOM_CPU, cpu)
    )
    if cpu == "default":
        cpu_mode = ""
    password = (
        _read(args.password_file, "password file").splitlines()[0] if args.password_file else ""
    )
    cloud = CloudInitAnswer(
        hostname=args.hostname,
        user=args.user,
        ssh_key_files=list(args.ssh_key),
        password=password,
        packages=[p.strip() for p in args.packages.split(",") if p.strip()],
        static_address=args.static_ip,
        gateway=args.gateway,
        dns=list(args.dns),
        user_data=_read(args.user_data, "user-data file") if args.user_data else "",
    )
    return GuestAnswers(
        name=args.name,
        title=args.title,
        description=args.description,
        source=_source(args),
        cloud_init=cloud,
        os=args.os,
        memory=_memory(args.memory),
        vcpus=args.vcpus,
        cpu_mode=cpu_mode,
        cpu_model=cpu_model,
        disk=_disk(args.disk) if args.disk else DiskAnswer(),
        network=_network(args.network),
        firmware=args.firmware,
        secure_boot=args.secure_boot,
        arch=args.arch,
        machine=args.machine,
        domain_type=args.virt_type,
        graphics=args.graphics,
        guest_agent=not args.no_agent,
        rng=not args.no_rng,
        start=args.start,
        uuid=args.uuid,
    )


def pick_host(args: argparse.Namespace) -> tuple[Fleet, Host]:
    fleet = build_fleet(args, default=False)
    named = dict(fleet.hosts)
    if args.host:
        host = named.get(args.host) or add_host_text(fleet, args.host, args)
    elif len(named) > 1:
        raise UsageError("create: several hosts given; say which with --host")
    else:
        host = next(iter(named.values()), None) or fleet.add(default_uri())
    fleet.hosts = {host.name: host}
    finish_fleet(fleet, args)
    return fleet, host


def _report(plan: GuestPlan) -> None:
    for warning in plan.warnings:
        error_line(f"warning: {plan.host}: {warning}")


async def run_create(args: argparse.Namespace) -> int:
    answers = answers_from(args)
    fleet, host = pick_host(args)
    session = Session(fleet)
    try:
        await session.connect()
        if session.failures:
            return EXIT_UNREACHABLE
        try:
            plan = await plan_guest(host, answers)
        except CreateRefused as exc:
            for problem in exc.problems:
                error_line(f"{host.name}: cannot create guest {answers.name}: {problem}")
            return EXIT_FAILED
        _report(plan)
        xml, line = domain_xml(plan), virt_install_line(plan)
        document = {
            "format_version": FORMAT_VERSION, "host": host.name, "name": plan.name,
            "dry_run": args.dry_run, "notes": plan.notes, "warnings": plan.warnings,
        }  # fmt: skip
        if args.dry_run:
            if args.json:
                print_json(document | {"xml": xml, "virt_install": line})
            else:
                sys.stdout.write(xml)
                print(f"\n# the same with virt-install:\n{line}")
            return 0
        progress = ProgressLines()

        def step(_text: str, transfer: Transfer | None) -> None:
            if transfer is not None:
                transfer.subscribe(progress)

        try:
            created = await create_guest(host, plan, progress=step, transfers=Transfers())
        finally:
            progress.finish()
        made = [
            {
                "kind": m.kind,
                "name": m.name,
                "pool": m.pool or None,
                "path": m.path or None,
                "role": m.role or None,
            }
            for m in created.made
        ]
        if args.json:
            print_json(
                document
                | {
                    "uuid": created.uuid,
                    "started": created.started,
                    "created": made,
                    "xml": created.xml,
                }
            )
        else:
            state = "started" if created.started else "defined, not started"
            print(f"{created.name} on {host.name}: created ({state}), uuid {created.uuid}")
            for m in created.made:
                if m.kind == "volume":
                    print(f"  volume {m.pool}/{m.name} ({m.role}): {m.path}")
        return 0
    finally:
        await session.close()
