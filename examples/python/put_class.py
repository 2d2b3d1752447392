"""A Python client of wbemd with Debian's python3-grpcio (docs/clients.md).

    /usr/bin/python3 examples/python/put_class.py 127.0.0.1:50051 [generated/descriptor_set.binpb]

Stubs come from wbemd's descriptor set, not from the .proto files: Debian's grpc_tools bundles a
protoc (3.5) that rejects proto3 `optional`, and the descriptor set needs no proto files at all.
It creates a class with PutClassAsync (WBEM_FLAG_SEND_STATUS | WBEM_FLAG_CREATE_ONLY), then makes
the same call again, which fails. Iterating a failing stream raises grpc.RpcError only after
every event, the final SetStatus included, has been yielded: catch it around the loop, keep the
events, and read the WBEM status from the trailers (or the decoded ErrorInfo). One JSON line per call.
"""
import atexit
import json
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DESCRIPTORS = os.path.join(HERE, "..", "..", "generated", "descriptor_set.binpb")


def load_stubs(descriptors):
    out = tempfile.mkdtemp(prefix="wbemd-py-")
    atexit.register(shutil.rmtree, out, True)
    files = ["google/protobuf/any.proto", "google/rpc/status.proto", "google/rpc/error_details.proto",
             "wbem/v1/cim.proto", "wbem/v1/status.proto", "wbem/v1/services.proto"]
    # Not grpc/health: generating it into the path would shadow the `grpc` package.
    code = protoc.main(["protoc", f"--descriptor_set_in={descriptors}", f"--python_out={out}",
                        f"--grpc_python_out={out}"] + files)
    if code != 0:
        raise SystemExit(f"protoc failed with {code}")
    sys.path.insert(0, out)


def put_class_async(stub, request):
    """One PutClassAsync: its events, the final SetStatus, and how the call ended."""
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    from wbem.v1 import status_pb2 as wbem

    call = stub.PutClassAsync(request, timeout=20)
    events, final = [], None
    try:
        for event in call:
            if event.WhichOneof("event") == "progress":
                events.append({"progress": [event.progress.current, event.progress.total]})
            else:
                final = event.status  # exactly one, the last message
    except grpc.RpcError:
        pass  # the events before the error are kept; the status is read below
    trailers = dict((k, v) for k, v in (call.trailing_metadata() or []))
    result = {"code": call.code().name, "events": events,
              "wbem-status": trailers.get("wbem-status"), "wbem-hresult": trailers.get("wbem-hresult")}
    if final is not None:
        result["setStatus"] = {"hresult": wbem.WbemStatus.Name(final.hresult), "param": final.param}
    if "grpc-status-details-bin" in trailers:
        for detail in status_pb2.Status.FromString(trailers["grpc-status-details-bin"]).details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                result["errorInfo"] = {"reason": info.reason, "metadata": dict(info.metadata)}
    return result


def main(address, descriptors=DEFAULT_DESCRIPTORS, class_name="Py_Example"):
    load_stubs(descriptors)
    import grpc
    from wbem.v1 import cim_pb2, services_pb2, services_pb2_grpc, status_pb2 as wbem

    with grpc.insecure_channel(address) as channel:
        stub = services_pb2_grpc.WbemServicesStub(channel)
        key = cim_pb2.Property(name="Id", type=cim_pb2.CIM_STRING,
                               qualifiers=[cim_pb2.Qualifier(name="Key", value=cim_pb2.Value(boolean=True))])
        request = services_pb2.PutClassRequest(
            namespace="root/cimv2",
            object=cim_pb2.ClassObject(class_name=class_name, properties=[key]),
            flags=wbem.WBEM_FLAG_SEND_STATUS | wbem.WBEM_FLAG_CREATE_ONLY,
        )
        for name in ("create", "create-again"):
            print(json.dumps({"call": name, **put_class_async(stub, request)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
