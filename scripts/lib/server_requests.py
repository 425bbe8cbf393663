"""Times requests to the credentials endpoint of `rolecall exec --server`, from inside it.

usage: server_requests.py COUNT

Each request is a plain HTTP/1.1 GET over a new loopback connection, as the SDKs make them,
with the authorization token; it counts until the whole answer has arrived. Prints the median
and the slowest in milliseconds, and the count. Standard library only.
"""
import os
import socket
import statistics
import sys
import time
import urllib.parse


def main():
    count = int(sys.argv[1])
    url = urllib.parse.urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    request = (
        f"GET {url.path or '/'} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: {token}\r\nConnection: close\r\n\r\n"
    ).encode()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection((url.hostname, url.port)) as connection:
            connection.sendall(request)
            answer = b""
            while True:
                part = connection.recv(65536)
                if not part:
                    break
                answer += part
        times.append(time.perf_counter() - started)
        if not answer.startswith(b"HTTP/1.1 200") or b'"AccessKeyId"' not in answer:
            sys.exit(f"server_requests: the endpoint answered {answer[:40]!r}")
    print(f"{statistics.median(times) * 1000:.3f} {max(times) * 1000:.3f} {count}")


if __name__ == "__main__":
    main()
