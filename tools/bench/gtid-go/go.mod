module dm-switch/tools/bench/gtid-go

go 1.22

require github.com/go-mysql-org/go-mysql v1.12.0

require (
	filippo.io/edwards25519 v1.1.0 // indirect
	github.com/Masterminds/semver v1.5.0 // indirect
	github.com/google/uuid v1.3.0 // indirect
	github.com/pingcap/errors v0.11.5-0.20240311024730-e056997136bb // indirect
	go.uber.org/atomic v1.11.0 // indirect
)
