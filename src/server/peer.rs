//! Who is at the other end of a loopback connection: the uid owning the peer's socket, read from
//! the kernel's socket tables. Both ends of a loopback connection are listed there, the peer's
//! as the line whose local address is the peer and whose remote address is ours.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// IPv4 sockets, then IPv6 ones (a peer connecting from an IPv6 socket to 127.0.0.1 is listed
/// there with a v4-mapped address).
const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// The uid owning the socket at each of `peers` connected to `ours`, in their order; none where
/// this cannot be told (no /proc, or the peer's socket already gone). Each table is read once
/// for all, and only as far as needed: with a thousand sockets open, one read takes a while.
pub fn owners(peers: &[SocketAddr], ours: SocketAddr) -> Vec<Option<u32>> {
    let mut owners = vec![None; peers.len()];
    for table in TABLES {
        if owners.iter().all(Option::is_some) {
            break;
        }
        if let Ok(file) = std::fs::File::open(table) {
            let lines = std::io::BufRead::lines(std::io::BufReader::new(file));
            fill(
                lines.map_while(std::result::Result::ok),
                peers,
                ours,
                &mut owners,
            );
        }
    }
    owners
}

/// Fills `owners` from a table's lines: the uid column of each line from a peer's address to
/// ours.
fn fill(
    lines: impl Iterator<Item = String>,
    peers: &[SocketAddr],
    ours: SocketAddr,
    owners: &mut [Option<u32>],
) {
    let ours = canonical(ours);
    let mut wanted: std::collections::HashMap<SocketAddr, usize> = peers
        .iter()
        .enumerate()
        .filter(|(index, _)| owners[*index].is_none())
        .map(|(index, peer)| (canonical(*peer), index))
        .collect();
    // sl, local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, …
    for line in lines.skip(1) {
        if wanted.is_empty() {
            return;
        }
        let fields: Vec<&str> = line.split_whitespace().take(8).collect();
        let [_, local, remote, _, _, _, _, uid] = fields[..] else {
            continue;
        };
        if address(remote) != Some(ours) {
            continue;
        }
        let Some(index) = address(local).and_then(|local| wanted.remove(&local)) else {
            continue;
        };
        owners[index] = uid.parse().ok();
    }
}

/// A v4-mapped IPv6 address as the IPv4 address it is, so both tables compare alike.
fn canonical(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), address.port()),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// `0100007F:1F90` (tcp) or 32 hex digits and a port (tcp6): the kernel prints each 32-bit word
/// of the address as the number it is in this machine's byte order, and the port in hex.
fn address(text: &str) -> Option<SocketAddr> {
    let (host, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for index in (0..host.len()).step_by(8) {
        let word = u32::from_str_radix(host.get(index..index + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(canonical(SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table as the kernel writes it, with the words in this machine's byte order.
    fn table(lines: &[(&str, &str, u32)]) -> String {
        let mut text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when \
                        retrnsmt   uid  timeout inode\n"
            .to_string();
        for (index, (local, remote, uid)) in lines.iter().enumerate() {
            text.push_str(&format!(
                "   {index}: {local} {remote} 01 00000000:00000000 00:00000000 00000000 \
                 {uid:>5}        0 4242 1 0000000000000000 20 4 30 10 -1\n"
            ));
        }
        text
    }

    fn owners_in(table: &str, peers: &[SocketAddr], ours: SocketAddr) -> Vec<Option<u32>> {
        let mut owners = vec![None; peers.len()];
        fill(table.lines().map(String::from), peers, ours, &mut owners);
        owners
    }

    fn word(bytes: [u8; 4]) -> String {
        format!("{:08X}", u32::from_ne_bytes(bytes))
    }

    #[test]
    fn the_peer_is_the_line_from_its_address_to_ours() {
        let loopback = word([127, 0, 0, 1]);
        let ours: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let text = table(&[
            // The listener, and our end of the connection: not the peer's.
            (&format!("{loopback}:1F90"), "00000000:0000", 0),
            (&format!("{loopback}:1F90"), &format!("{loopback}:9C40"), 0),
            // Another connection to us, from another port.
            (
                &format!("{loopback}:9C41"),
                &format!("{loopback}:1F90"),
                1000,
            ),
            (
                &format!("{loopback}:9C40"),
                &format!("{loopback}:1F90"),
                65534,
            ),
        ]);
        let elsewhere: SocketAddr = "127.0.0.1:40002".parse().unwrap();
        assert_eq!(
            owners_in(&text, &[peer, elsewhere], ours),
            [Some(65534), None]
        );
    }

    #[test]
    fn an_ipv6_socket_connected_to_an_ipv4_address_is_found_in_tcp6() {
        let mapped = format!(
            "{}{}{}{}",
            word([0, 0, 0, 0]),
            word([0, 0, 0, 0]),
            word([0, 0, 0xff, 0xff]),
            word([127, 0, 0, 1])
        );
        let text = table(&[(&format!("{mapped}:9C40"), &format!("{mapped}:1F90"), 1000)]);
        let ours: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        assert_eq!(owners_in(&text, &[peer], ours), [Some(1000)]);
    }

    #[test]
    fn a_connection_of_this_process_is_its_own() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(
            owners(&[peer], listener.local_addr().unwrap()),
            [Some(crate::os::effective_uid())]
        );
    }
}
