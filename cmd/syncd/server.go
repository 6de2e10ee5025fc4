package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// server is an HTTP listener of the daemon.
type server struct {
	name   string
	srv    *http.Server
	addr   net.Addr
	done   chan struct{}
	logger *slog.Logger
}

// listen serves h on addr until shutdown. It fails at once when the address
// cannot be listened on.
func listen(ctx context.Context, name, addr string, h http.Handler, logger *slog.Logger) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &server{
		name: name,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		addr:   ln.Addr(),
		done:   make(chan struct{}),
		logger: logger,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.ErrorContext(ctx, name+" stopped", "error", err)
		}
	}()
	logger.InfoContext(ctx, name+" listening", "addr", ln.Addr().String())
	return s, nil
}

// shutdown stops accepting requests and waits for those under way.
func (s *server) shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		s.logger.WarnContext(ctx, s.name+" shutdown", "error", err)
	}
	<-s.done
}
