// Command wbemd-go-example is a Go client of wbemd with no generated code: the message types come
// from the descriptor set wbemd ships (generated/descriptor_set.binpb) through dynamicpb, so it
// builds from Debian's golang-google-grpc-dev and golang-google-protobuf-dev alone (docs/clients.md).
//
//	go run . -addr 127.0.0.1:50051 -descriptors ../../generated/descriptor_set.binpb
//
// It creates a class with PutClassAsync (WBEM_FLAG_SEND_STATUS | WBEM_FLAG_CREATE_ONLY), prints
// each sink event, then the same call again, which fails: the final SetStatus is still read from
// the stream before the error, and the WBEM status comes from the trailers. One JSON line per call.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// codec marshals any proto.Message (dynamic ones included) with the protobuf-go v2 API.
type codec struct{}

func (codec) Marshal(v interface{}) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }
func (codec) Unmarshal(data []byte, v interface{}) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (codec) Name() string { return "proto" }

// loadFiles reads the descriptor set into a registry of file descriptors.
func loadFiles(path string) (*protoregistry.Files, error) {
	raw, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return nil, err
	}
	return protodesc.NewFiles(set)
}

func newMessage(files *protoregistry.Files, name string) *dynamicpb.Message {
	descriptor, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		panic(err)
	}
	return dynamicpb.NewMessage(descriptor.(protoreflect.MessageDescriptor))
}

// putClassAsync runs one PutClassAsync and returns its transcript: every sink event as JSON,
// the final SetStatus, and the gRPC code and WBEM trailers.
func putClassAsync(ctx context.Context, conn *grpc.ClientConn, files *protoregistry.Files, request proto.Message) map[string]interface{} {
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true},
		"/wbem.v1.WbemServices/PutClassAsync", grpc.ForceCodec(codec{}))
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	if err := stream.SendMsg(request); err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	stream.CloseSend()
	events := []json.RawMessage{}
	var recvErr error
	for {
		event := newMessage(files, "wbem.v1.ObjectSinkEvent")
		// Every event, the final SetStatus included, arrives before the stream's error.
		if recvErr = stream.RecvMsg(event); recvErr != nil {
			break
		}
		text, _ := protojson.Marshal(event)
		events = append(events, text)
	}
	code := "OK"
	if recvErr != io.EOF {
		code = status.Code(recvErr).String()
	}
	trailer := stream.Trailer()
	return map[string]interface{}{
		"code":         code,
		"events":       events,
		"wbem-status":  first(trailer, "wbem-status"),
		"wbem-hresult": first(trailer, "wbem-hresult"),
	}
}

func first(md metadata.MD, key string) string {
	if values := md.Get(key); len(values) > 0 {
		return values[0]
	}
	return ""
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "wbemd address")
	descriptors := flag.String("descriptors", "generated/descriptor_set.binpb", "wbemd's descriptor set")
	className := flag.String("class", "Go_Widget", "class to create")
	flag.Parse()

	files, err := loadFiles(*descriptors)
	if err != nil {
		fmt.Fprintln(os.Stderr, "descriptors:", err)
		os.Exit(1)
	}
	conn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A request in the proto JSON mapping; flags 130 = WBEM_FLAG_SEND_STATUS | WBEM_FLAG_CREATE_ONLY.
	request := newMessage(files, "wbem.v1.PutClassRequest")
	body := fmt.Sprintf(`{"namespace": "root/cimv2", "flags": 130, "object": {"className": %q,
		"properties": [{"name": "Id", "type": "CIM_STRING",
		                "qualifiers": [{"name": "Key", "value": {"boolean": true}}]}]}}`, *className)
	if err := protojson.Unmarshal([]byte(body), request); err != nil {
		fmt.Fprintln(os.Stderr, "request:", err)
		os.Exit(1)
	}
	for _, call := range []string{"create", "create-again"} {
		result := putClassAsync(ctx, conn, files, request)
		result["call"] = call
		line, _ := json.Marshal(result)
		fmt.Println(string(line))
	}
}
