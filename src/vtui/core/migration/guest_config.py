"""What a migration needs to know about a guest's definition, parsed from its XML.

Pure parsing (no libvirt calls): the devices, files, networks, pinning and memory
backing that another host must be able to provide. inspect_source.py reads the XML
and adds what only the source host knows (which pool a disk lives in, its size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree


@dataclass(slots=True)
class Disk:
    target: str  # "vda"
    device: str  # disk, cdrom, floppy, lun
    kind: str  # file, block, network, volume, dir, nvme...
    path: str  # file or device path; "pool/volume" for a volume; the name of a network disk
    bus: str = ""
    fmt: str = ""  # raw, qcow2...
    cache: str = ""
    readonly: bool = False
    shareable: bool = False
    transient: bool = False
    pool: str = ""  # for kind "volume": the pool named in the definition
    volume: str = ""
    backing: list[str] = field(default_factory=list)  # backing chain, nearest first
    # what the source host knows (inspect_source.py): the pool holding it, its size
    source_pool: str = ""
    source_pool_type: str = ""  # dir, fs, netfs, logical, rbd...
    capacity: int | None = None  # bytes
    allocation: int | None = None

    @property
    def name(self) -> str:
        return f"disk {self.target}"

    @property
    def copyable(self) -> bool:
        """What copy-storage moves: a writable disk that is not shared."""
        return self.device in ("disk", "lun") and not (self.readonly or self.shareable)


@dataclass(slots=True)
class Nic:
    kind: str  # network, bridge, direct, user, hostdev, vdpa, ethernet...
    source: str  # the network, bridge or host interface it uses
    mac: str = ""


@dataclass(slots=True)
class HostDevice:
    kind: str  # pci, usb, scsi, mdev, scsi_host, or "capabilities"
    address: str  # as the user knows it: 0000:03:00.0, 046d:c52b, an mdev UUID
    nodedev: str = ""  # the node device name on a host: pci_0000_03_00_0
    vendor: str = ""  # USB by vendor/product
    product: str = ""


@dataclass(slots=True)
class GuestConfig:
    domain_type: str = ""
    arch: str = ""
    machine: str = ""
    emulator: str = ""
    cpu_xml: str | None = None  # the <cpu> element, when it names a model or mode
    cpu_mode: str = ""
    cpu_model: str = ""
    cpu_features: dict[str, str] = field(default_factory=dict)  # name -> policy
    tsc_frequency: bool = False  # <timer name='tsc' frequency=...>
    disks: list[Disk] = field(default_factory=list)
    boot_files: list[tuple[str, str]] = field(default_factory=list)  # (kernel, path)...
    firmware: str = ""  # <os firmware='efi'>: libvirt picks the files
    loader: str = ""  # UEFI (or other) code
    loader_type: str = ""  # pflash, rom
    nvram: str = ""  # this guest's UEFI variables
    nvram_template: str = ""
    nics: list[Nic] = field(default_factory=list)
    hostdevs: list[HostDevice] = field(default_factory=list)
    filesystems: list[tuple[str, str, str]] = field(default_factory=list)  # driver, dir, tag
    tpms: list[tuple[str, str]] = field(default_factory=list)  # (model, backend)
    shmems: list[tuple[str, str]] = field(default_factory=list)  # (name, role)
    accel3d: bool = False  # virtio-gpu with virgl
    vcpus: int = 1
    vcpu_cpuset: str = ""  # <vcpu cpuset=...>
    pinned: list[tuple[str, str]] = field(default_factory=list)  # ("vCPU 0", "2-3")...
    numa_nodesets: list[tuple[str, str]] = field(default_factory=list)  # ("memory", "1")
    hugepages: list[tuple[int, str]] = field(default_factory=list)  # (page KiB, nodeset)


def cpu_list(text: str) -> set[int]:
    """libvirt's CPU set syntax ('0-3,^2,8') as a set of numbers; ValueError if bad."""
    chosen: set[int] = set()
    excluded: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        target = excluded if part.startswith("^") else chosen
        part = part.lstrip("^")
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"bad range {part}")
        target.update(range(first, last + 1))
    return chosen - excluded


_SCALE = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1, "m": 1024}
_SCALE.update({"mib": 1024, "mb": 1024, "g": 1024**2, "gib": 1024**2, "gb": 1024**2})


def size_kib(value: str, unit: str | None) -> int:
    """A libvirt size with its unit (KiB when none is given) in KiB."""
    return int(int(value) * _SCALE.get((unit or "KiB").lower(), 1))


def _backing_chain(disk) -> list[str]:
    chain = []
    store = disk.find("backingStore")
    while store is not None and store.get("type"):
        source = store.find("source")
        if source is None:
            break
        path = source.get("file") or source.get("dev") or source.get("name") or ""
        if path:
            chain.append(path)
        store = store.find("backingStore")
    return chain


def _disk(elem) -> Disk | None:
    source = elem.find("source")
    kind = elem.get("type", "file")
    target = elem.find("target")
    driver = elem.find("driver")
    disk = Disk(
        target=target.get("dev", "?") if target is not None else "?",
        device=elem.get("device", "disk"),
        kind=kind,
        path="",
        bus=target.get("bus", "") if target is not None else "",
        fmt=driver.get("type", "") if driver is not None else "",
        cache=driver.get("cache", "") if driver is not None else "",
        readonly=elem.find("readonly") is not None,
        shareable=elem.find("shareable") is not None,
        transient=elem.find("transient") is not None,
    )
    if source is None:
        return disk  # an empty CD-ROM drive: nothing to find on the other host
    if kind == "network":
        disk.path = source.get("name", "") or source.get("protocol", "")
    elif kind == "volume":
        disk.pool, disk.volume = source.get("pool", ""), source.get("volume", "")
        disk.path = f"{disk.pool}/{disk.volume}"
    else:
        disk.path = source.get("file") or source.get("dev") or source.get("dir") or ""
    disk.backing = _backing_chain(elem)
    return disk


def _hostdev(elem) -> HostDevice:
    if elem.get("mode", "subsystem") != "subsystem":
        return HostDevice("capabilities", elem.get("type", ""))
    kind, source = elem.get("type", ""), elem.find("source")
    if source is None:
        return HostDevice(kind, "")
    address = source.find("address")
    if kind == "pci" and address is not None:
        parts = [address.get(k, "0") for k in ("domain", "bus", "slot", "function")]
        domain, bus, slot, function = (int(p, 16) for p in parts)
        text = f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"
        return HostDevice("pci", text, f"pci_{domain:04x}_{bus:02x}_{slot:02x}_{function:x}")
    if kind == "usb":
        vendor, product = source.find("vendor"), source.find("product")
        if vendor is not None and product is not None:
            v, p = vendor.get("id", ""), product.get("id", "")
            return HostDevice("usb", f"{v[2:]}:{p[2:]}", vendor=v.lower(), product=p.lower())
        if address is not None:
            return HostDevice("usb", f"bus {address.get('bus')} device {address.get('device')}")
    if kind == "mdev" and address is not None:
        return HostDevice("mdev", address.get("uuid", ""))
    adapter = source.find("adapter")
    return HostDevice(kind, adapter.get("name", "") if adapter is not None else "")


def parse(xml: str) -> GuestConfig:
    root = etree.fromstring(xml.encode())
    cfg = GuestConfig(domain_type=root.get("type", ""))
    ostype = root.find("os/type")
    if ostype is not None:
        cfg.arch, cfg.machine = ostype.get("arch", ""), ostype.get("machine", "")
    cfg.emulator = root.findtext("devices/emulator") or ""
    cpu = root.find("cpu")
    if cpu is not None:
        cfg.cpu_mode = cpu.get("mode", "custom")
        cfg.cpu_model = cpu.findtext("model") or ""
        cfg.cpu_features = {f.get("name", ""): f.get("policy", "") for f in cpu.iter("feature")}
        if cpu.find("model") is not None or cfg.cpu_mode != "custom":
            cfg.cpu_xml = etree.tostring(cpu, encoding="unicode")
    cfg.tsc_frequency = bool(root.xpath("clock/timer[@name='tsc'][@frequency]"))
    for elem in root.iterfind("devices/disk"):
        disk = _disk(elem)
        if disk is not None:
            cfg.disks.append(disk)
    for tag in ("kernel", "initrd", "dtb"):
        path = root.findtext(f"os/{tag}")
        if path:
            cfg.boot_files.append((tag, path))
    os_ = root.find("os")
    cfg.firmware = os_.get("firmware", "") if os_ is not None else ""
    loader, nvram = root.find("os/loader"), root.find("os/nvram")
    if loader is not None:
        cfg.loader, cfg.loader_type = (loader.text or "").strip(), loader.get("type", "")
    if nvram is not None:
        cfg.nvram, cfg.nvram_template = (nvram.text or "").strip(), nvram.get("template", "")
    for nic in root.iterfind("devices/interface"):
        source = nic.find("source")
        name = ""
        if source is not None:
            name = source.get("network") or source.get("bridge") or source.get("dev") or ""
        mac = nic.find("mac")
        address = mac.get("address", "") if mac is not None else ""
        cfg.nics.append(Nic(nic.get("type", ""), name, address))
    cfg.hostdevs = [_hostdev(h) for h in root.iterfind("devices/hostdev")]
    for fs in root.iterfind("devices/filesystem"):
        driver, source, target = fs.find("driver"), fs.find("source"), fs.find("target")
        cfg.filesystems.append(
            (
                driver.get("type", "path") if driver is not None else "path",
                source.get("dir", "") if source is not None else "",
                target.get("dir", "") if target is not None else "",
            )
        )
    for tpm in root.iterfind("devices/tpm"):
        backend = tpm.find("backend")
        kind = backend.get("type", "") if backend is not None else ""
        cfg.tpms.append((tpm.get("model", ""), kind))
    for shmem in root.iterfind("devices/shmem"):
        server = shmem.find("server")
        role = shmem.get("role", "") or ("peer" if server is not None else "master")
        cfg.shmems.append((shmem.get("name", ""), role))
    cfg.accel3d = bool(root.xpath("devices/video/model/acceleration[@accel3d='yes']"))
    vcpu = root.find("vcpu")
    if vcpu is not None:
        cfg.vcpus = int((vcpu.text or "1").strip() or 1)
        cfg.vcpu_cpuset = vcpu.get("cpuset", "")
    for pin in root.iterfind("cputune/vcpupin"):
        cfg.pinned.append((f"vCPU {pin.get('vcpu')}", pin.get("cpuset", "")))
    for tag, label in (("emulatorpin", "emulator"), ("iothreadpin", "I/O thread")):
        for pin in root.iterfind(f"cputune/{tag}"):
            cfg.pinned.append((label, pin.get("cpuset", "")))
    memory = root.find("numatune/memory")
    if memory is not None and memory.get("nodeset"):
        cfg.numa_nodesets.append(("memory", memory.get("nodeset", "")))
    for node in root.iterfind("numatune/memnode"):
        cfg.numa_nodesets.append((f"guest node {node.get('cellid')}", node.get("nodeset", "")))
    hugepages = root.find("memoryBacking/hugepages")
    if hugepages is not None:
        pages = hugepages.findall("page")
        if not pages:
            cfg.hugepages.append((0, ""))  # the host's default huge page size
        for page in pages:
            size = size_kib(page.get("size", "0"), page.get("unit"))
            cfg.hugepages.append((size, page.get("nodeset", "")))
    return cfg
