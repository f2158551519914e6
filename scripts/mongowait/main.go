// Command mongowait is a tiny helper for scripts/mongo-test-server.sh.
//
// It lives in its own module so that neither it nor the MongoDB driver
// enters userdir's go.mod.
//
//	mongowait port             print a free TCP port on 127.0.0.1
//	mongowait ping URI [TIMEOUT]
//	                           run one "ping" command against URI (default
//	                           timeout 2s); exit 0 if the server answered ok
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}

	switch os.Args[1] {
	case "port":
		port, err := freePort()
		if err != nil {
			fail(err)
		}
		fmt.Println(port)
	case "ping":
		if len(os.Args) < 3 || len(os.Args) > 4 {
			usage()
		}
		timeout := 2 * time.Second
		if len(os.Args) == 4 {
			d, err := time.ParseDuration(os.Args[3])
			if err != nil {
				fail(err)
			}
			timeout = d
		}
		if err := ping(os.Args[2], timeout); err != nil {
			fail(err)
		}
	default:
		usage()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ping(uri string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	opts := options.Client().
		ApplyURI(uri).
		SetDirect(true).
		SetConnectTimeout(timeout).
		SetServerSelectionTimeout(timeout)
	client, err := mongo.Connect(opts)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())

	// An explicit command (rather than client.Ping) so the reply is checked
	// at the wire level: RunCommand returns an error unless ok == 1.
	var res bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Decode(&res); err != nil {
		return err
	}
	return nil
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mongowait port | mongowait ping URI [TIMEOUT]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mongowait:", err)
	os.Exit(1)
}
