#!/usr/bin/env bash
# wbemd from the command line with buf curl (in node_modules/.bin; grpcurl works the same way):
# the server's reflection gives the schema, requests and answers are the proto JSON mapping.
#   bash examples/buf-curl/calls.sh 127.0.0.1:50051
set -euo pipefail
addr=${1:-127.0.0.1:50051}
buf=${BUF:-$(dirname "$0")/../../node_modules/.bin/buf}
call() { "$buf" curl --protocol grpc --http2-prior-knowledge "$@"; }

# Create a namespace, then a class in it, with the object sink's progress (flags 128 = SEND_STATUS).
call -d '{"parent": "root", "name": "curl_example"}' "http://$addr/wbem.v1.WbemServices/CreateNamespace"
call -d '{"namespace": "root/curl_example", "flags": 128,
          "object": {"className": "Curl_Widget",
                     "properties": [{"name": "Id", "type": "CIM_STRING",
                                     "qualifiers": [{"name": "Key", "value": {"boolean": true}}]}]}}' \
  "http://$addr/wbem.v1.WbemServices/PutClassAsync"
call -d '{"namespace": "root/curl_example", "className": "Curl_Widget"}' \
  "http://$addr/wbem.v1.WbemServices/GetClass"
# A failure: exit status = gRPC code × 8 (NOT_FOUND → 40); -v shows the wbem-status trailer.
call -v -d '{"namespace": "root/curl_example", "className": "Curl_Missing"}' \
  "http://$addr/wbem.v1.WbemServices/GetClass" || echo "exit status $?"
