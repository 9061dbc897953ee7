"""The <devices> of a domain: disks, network interfaces, host devices and every
other kind, each with one line saying what it is. A device of a shape vtui does not
know (a network disk, a vhost-user NIC, an unusual controller) is still listed, with
what could be read and its raw XML."""

from __future__ import annotations

from lxml import etree

from vtui.core.guests.config.model import DeviceView, DiskView, HostDevView, NicView

# Kinds with sections of their own (or nothing to show: the emulator is in Overview).
OWN_SECTIONS = frozenset({"disk", "interface", "hostdev", "emulator"})


def _raw(elem: etree._Element) -> str:
    copy = etree.fromstring(etree.tostring(elem))
    copy.tail = None
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="unicode").strip()


def _int(text: str | None) -> int | None:
    try:
        return int(str(text), 0) if text is not None else None
    except ValueError:
        return None


def _attrs(elem: etree._Element | None) -> str:
    """key=value of an element's attributes, for a source vtui has no words for."""
    if elem is None:
        return ""
    return " ".join(f"{k!s}={v!s}" for k, v in elem.attrib.items())


def _get(elem: etree._Element | None, key: str) -> str:
    return elem.get(key, "") if elem is not None else ""


def _boot_order(dev: etree._Element) -> int | None:
    boot = dev.find("boot")
    return _int(boot.get("order")) if boot is not None else None


def pci_text(address: etree._Element | None) -> str:
    if address is None:
        return ""
    parts = [_int(address.get(k, "0")) for k in ("domain", "bus", "slot", "function")]
    if None in parts:
        return _attrs(address)
    domain, bus, slot, function = (p or 0 for p in parts)
    return f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"


# -- disks -------------------------------------------------------------------------------
def _network_source(source: etree._Element) -> str:
    protocol = source.get("protocol", "")
    hosts = []
    for host in source.iterfind("host"):
        name = host.get("name") or host.get("socket") or ""
        hosts.append(f"{name}:{host.get('port')}" if host.get("port") else name)
    where = ",".join(hosts)
    name = source.get("name", "")
    return f"{protocol}://{where}/{name}" if where else f"{protocol}:{name}"


def parse_disk(disk: etree._Element) -> DiskView:
    kind = disk.get("type", "file")
    source = disk.find("source")
    target = disk.find("target")
    driver = disk.find("driver")
    path = pool = volume = text = ""
    if source is not None:
        if kind == "file":
            path = text = source.get("file", "")
        elif kind == "block":
            path = text = source.get("dev", "")
        elif kind == "dir":
            text = source.get("dir", "")
        elif kind == "volume":
            pool, volume = source.get("pool", ""), source.get("volume", "")
            text = f"{pool}/{volume}"
        elif kind == "network":
            text = _network_source(source)
        elif kind == "vhostuser":
            text = source.get("path", "")
        elif kind == "nvme":
            text = (
                f"nvme {pci_text(source.find('address'))} namespace {source.get('namespace', '?')}"
            )
        else:
            text = _attrs(source) or _raw(source)
    return DiskView(
        target=target.get("dev", "") if target is not None else "",
        device=disk.get("device", "disk"),
        type=kind,
        bus=target.get("bus", "") if target is not None else "",
        source=text,
        format=driver.get("type", "") if driver is not None else "",
        cache=driver.get("cache", "") if driver is not None else "",
        io=driver.get("io", "") if driver is not None else "",
        readonly=disk.find("readonly") is not None,
        shareable=disk.find("shareable") is not None,
        serial=disk.findtext("serial", ""),
        boot_order=_boot_order(disk),
        path=path,
        pool=pool,
        volume=volume,
        raw=_raw(disk),
    )


# -- network interfaces ------------------------------------------------------------------
def _nic_source(kind: str, source: etree._Element | None, nic: etree._Element) -> str:
    if kind == "user":
        return "user-mode networking"
    if kind == "ethernet":
        return _get(nic.find("target"), "dev")
    if source is None:
        return ""
    if kind == "network":
        group = source.get("portgroup")
        return source.get("network", "") + (f" (portgroup {group})" if group else "")
    if kind == "bridge":
        return source.get("bridge", "")
    if kind == "direct":
        return f"{source.get('dev', '')} ({source.get('mode', 'vepa')})"
    if kind == "vhostuser":
        return f"{source.get('path', '')} ({source.get('mode', '')})"
    if kind == "hostdev":
        return pci_text(source.find("address")) or _attrs(source.find("address"))
    if kind == "vdpa":
        return source.get("dev", "")
    if kind in ("udp", "mcast", "server", "client"):
        return f"{source.get('address', '')}:{source.get('port', '')}"
    return _attrs(source)


def parse_nic(nic: etree._Element) -> NicView:
    kind = nic.get("type", "")
    mac, model, link, target = (nic.find(t) for t in ("mac", "model", "link", "target"))
    return NicView(
        mac=mac.get("address", "") if mac is not None else "",
        type=kind,
        source=_nic_source(kind, nic.find("source"), nic),
        model=model.get("type", "") if model is not None else "",
        link=link.get("state", "") if link is not None else "",
        target_dev=target.get("dev", "") if target is not None and kind != "ethernet" else "",
        boot_order=_boot_order(nic),
        raw=_raw(nic),
    )


# -- host devices ------------------------------------------------------------------------
def parse_hostdev(dev: etree._Element, ordinal: int) -> HostDevView:
    kind = dev.get("type", "")
    source = dev.find("source")
    address = ""
    if source is not None:
        if kind == "pci":
            address = pci_text(source.find("address"))
        elif kind == "usb":
            found = source.find("address")
            vendor, product = source.find("vendor"), source.find("product")
            if found is not None and found.get("bus") and found.get("device"):
                address = f"{_int(found.get('bus')) or 0:03d}:{_int(found.get('device')) or 0:03d}"
            elif vendor is not None and product is not None:
                address = f"{vendor.get('id', '')}:{product.get('id', '')}"
        elif kind == "mdev":
            found = source.find("address")
            address = found.get("uuid", "") if found is not None else ""
        else:
            address = _attrs(source.find("address")) or _attrs(source.find("adapter"))
    return HostDevView(
        kind=kind or dev.get("mode", ""),
        address=address,
        managed=dev.get("managed") == "yes",
        ordinal=ordinal,
        raw=_raw(dev),
    )


# -- every other kind --------------------------------------------------------------------
def _chr_summary(dev: etree._Element) -> str:
    target = dev.find("target")
    source = dev.find("source")
    bits = [dev.get("type", "")]
    if source is not None and (where := source.get("path") or source.get("host")):
        bits.append(where)
    if target is not None:
        name = target.get("name")
        if name:
            bits.append(f"-> {name}")
        port = target.get("port")
        if port is not None:
            bits.append(f"port {port}")
        if target.get("type"):
            bits.append(f"({target.get('type')})")
    return " ".join(b for b in bits if b)


def device_summary(dev: etree._Element) -> str:
    kind = dev.tag
    if kind in ("serial", "console", "parallel", "channel"):
        return _chr_summary(dev)
    if kind == "graphics":
        listen_elem = dev.find("listen")
        listen = dev.get("listen") or _get(listen_elem, "address")
        port = dev.get("port")
        where = f" on {listen}" if listen else ""
        if port and port != "-1":
            where += f" port {port}"
        elif dev.get("autoport") == "yes":
            where += " (autoport)"
        return f"{dev.get('type', '')}{where}"
    if kind == "video":
        model = dev.find("model")
        if model is None:
            return "video"
        vram = model.get("vram")
        heads = model.get("heads")
        extra = f", {int(vram) // 1024} MiB" if vram and vram.isdigit() else ""
        extra += f", {heads} head(s)" if heads else ""
        return f"{model.get('type', '')}{extra}"
    if kind == "rng":
        backend = dev.find("backend")
        what = (backend.text or "").strip() if backend is not None else ""
        return f"{dev.get('model', '')} from {what or _get(backend, 'model') or '?'}"
    if kind == "tpm":
        backend = dev.find("backend")
        parts = (dev.get("model", ""), _get(backend, "type"), _get(backend, "version"))
        return " ".join(x for x in parts if x)
    if kind == "input":
        return f"{dev.get('type', '')} ({dev.get('bus', '')})"
    if kind == "controller":
        named = f" {dev.get('model')}" if dev.get("model") else ""
        return f"{dev.get('type', '')} {dev.get('index', '')}{named}"
    if kind == "filesystem":
        driver = dev.find("driver")
        fs_source, fs_target = dev.find("source"), dev.find("target")
        src = ""
        if fs_source is not None:
            src = fs_source.get("dir") or fs_source.get("name") or _attrs(fs_source)
        dst = _get(fs_target, "dir")
        how = driver.get("type", dev.get("type", "")) if driver is not None else dev.get("type", "")
        return f"{how}: {src} -> {dst}"
    if kind == "watchdog":
        return f"{dev.get('model', '')}, on fire: {dev.get('action', 'reset')}"
    if kind in ("sound", "memballoon", "panic", "iommu", "vsock", "shmem", "hub", "redirdev"):
        return " ".join(
            x for x in (dev.get("model", ""), dev.get("type", ""), dev.get("name", "")) if x
        )
    return _attrs(dev) or kind


def parse_devices(devices: etree._Element | None):
    """(disks, nics, other devices, host devices) of a <devices> element."""
    if devices is None:
        return (), (), (), ()
    disks, nics, others, hostdevs = [], [], [], []
    seen: dict[str, int] = {}
    for dev in devices:
        if not isinstance(dev.tag, str):
            continue  # a comment
        ordinal = seen.get(dev.tag, 0)
        seen[dev.tag] = ordinal + 1
        if dev.tag == "disk":
            disks.append(parse_disk(dev))
        elif dev.tag == "interface":
            nics.append(parse_nic(dev))
        elif dev.tag == "hostdev":
            hostdevs.append(parse_hostdev(dev, ordinal))
        elif dev.tag not in OWN_SECTIONS:
            others.append(DeviceView(dev.tag, ordinal, device_summary(dev), _raw(dev)))
    return tuple(disks), tuple(nics), tuple(others), tuple(hostdevs)
