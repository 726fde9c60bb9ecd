package sendertest

import (
	"encoding/binary"
	"io"
	"net"
	"syscall"
	"time"
)

// kernelStamps turns on SO_TIMESTAMPNS for the connection and returns a
// read that also reports when the kernel received the data it returns;
// nil when the socket does not allow it.
func kernelStamps(c *net.TCPConn) func(p []byte) (int, time.Time, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return func(p []byte) (int, time.Time, error) {
		oob := make([]byte, syscall.CmsgSpace(16))
		var n, oobn int
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, oob, 0)
			return rerr != syscall.EAGAIN
		})
		switch {
		case err != nil:
			return 0, time.Time{}, err
		case rerr != nil:
			return 0, time.Time{}, rerr
		case n == 0 && len(p) > 0:
			return 0, time.Time{}, io.EOF
		}
		return n, received(oob[:oobn]), nil
	}
}

// received reads the SCM_TIMESTAMPNS control message (a 64-bit timespec);
// without one, it is now.
func received(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) == 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[:8]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
				return time.Unix(sec, nsec)
			}
		}
	}
	return time.Now()
}
