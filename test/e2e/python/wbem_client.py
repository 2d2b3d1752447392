"""A real Python grpcio client of wbemd (Debian's python3-grpcio), used by the e2e test.

Generates its stubs from generated/descriptor_set.binpb into a temp dir (protoc 3.5 bundled with
Debian's grpc_tools rejects proto3 `optional`, and the descriptor set needs no proto files), runs
a scenario against ADDRESS and prints one JSON transcript per call on stdout.
"""
import atexit
import json
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DESCRIPTORS = os.path.join(ROOT, "generated", "descriptor_set.binpb")


def load_stubs():
    out = tempfile.mkdtemp(prefix="wbemd-py-")
    # The modules are loaded once imported; the generated files are not needed after the run.
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    files = ["google/protobuf/any.proto", "google/rpc/status.proto", "google/rpc/error_details.proto",
             "wbem/v1/cim.proto", "wbem/v1/status.proto", "wbem/v1/services.proto"]
    # Not grpc/health: generating it into the path would shadow the `grpc` package.
    code = protoc.main(["protoc", f"--descriptor_set_in={DESCRIPTORS}", f"--python_out={out}",
                        f"--grpc_python_out={out}"] + files)
    if code != 0:
        raise SystemExit(f"protoc failed with {code}")
    sys.path.insert(0, out)


def main(address):
    load_stubs()
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    from wbem.v1 import cim_pb2, services_pb2, services_pb2_grpc, status_pb2 as wbem_status_pb2

    def sink_transcript(call):
        events = []
        try:
            for event in call:
                kind = event.WhichOneof("event")
                if kind == "progress":
                    events.append({"progress": [event.progress.current, event.progress.total]})
                else:
                    events.append({"status": wbem_status_pb2.WbemStatus.Name(event.status.hresult),
                                   "param": event.status.param})
        except grpc.RpcError:
            pass
        trailers = {k: (v if isinstance(v, str) else None) for k, v in (call.trailing_metadata() or [])}
        result = {"code": call.code().name, "events": events,
                  "wbem-status": trailers.get("wbem-status"), "wbem-hresult": trailers.get("wbem-hresult")}
        for key, value in call.trailing_metadata() or []:
            if key == "grpc-status-details-bin":
                status = status_pb2.Status.FromString(value)
                for detail in status.details:
                    info = error_details_pb2.ErrorInfo()
                    if detail.Unpack(info):
                        result["errorInfo"] = {"reason": info.reason, "domain": info.domain,
                                               "metadata": dict(info.metadata)}
        return result

    channel = grpc.insecure_channel(address)
    stub = services_pb2_grpc.WbemServicesStub(channel)
    prop = cim_pb2.Property(name="Id", type=cim_pb2.CIM_STRING,
                            qualifiers=[cim_pb2.Qualifier(name="Key", value=cim_pb2.Value(boolean=True))])
    big = cim_pb2.Property(name="Big", type=cim_pb2.CIM_UINT64, value=cim_pb2.Value(uint=18446744073709551615))
    request = services_pb2.PutClassRequest(
        namespace="root\\cimv2",
        object=cim_pb2.ClassObject(class_name="Py_Widget", properties=[prop, big]),
        flags=wbem_status_pb2.WBEM_FLAG_SEND_STATUS | wbem_status_pb2.WBEM_FLAG_CREATE_ONLY,
    )
    print(json.dumps({"call": "create", **sink_transcript(stub.PutClassAsync(request, timeout=10))}))
    print(json.dumps({"call": "create-again", **sink_transcript(stub.PutClassAsync(request, timeout=10))}))
    got = stub.GetClass(services_pb2.GetClassRequest(namespace="//./root/cimv2", class_name="py_widget"), timeout=10)
    big_value = [p.value.uint for p in got.object.properties if p.name == "Big"]
    print(json.dumps({"call": "get", "class": got.object.class_name, "path": got.object.system.path,
                      "big": str(big_value[0]) if big_value else None}))
    bad = services_pb2.PutClassRequest(namespace="root/cimv2", object=request.object, flags=3)
    print(json.dumps({"call": "bad-flags", **sink_transcript(stub.PutClassAsync(bad, timeout=10))}))
    channel.close()


if __name__ == "__main__":
    main(sys.argv[1])
