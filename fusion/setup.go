package fusion

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prismai/mec/backend"
	"github.com/prismai/mec/internal/strict"
)

// SelectEngines picks, for the named backend (empty: $MEC_BACKEND, else the
// default), the engines a System needs: the state-vector backend is the
// named one, and the spiking and spectral capabilities fall back to the
// best loaded backend that has them. `mec fuse`, `mec run` and the
// orchestrator's nodes all select their engines here.
func SelectEngines(name string) (Engines, error) {
	sv, _, err := backend.WithCapability[backend.StateVector](name)
	if err != nil {
		return Engines{}, fmt.Errorf("fusion: %w", err)
	}
	sp, _, err := backend.WithCapability[backend.Spiking](name)
	if err != nil {
		return Engines{}, fmt.Errorf("fusion: %w", err)
	}
	ft, _, err := backend.WithCapability[backend.Spectral](name)
	if err != nil {
		return Engines{}, fmt.Errorf("fusion: %w", err)
	}
	return Engines{State: sv, Spiking: sp, Spectral: ft}, nil
}

// ParseConfig decodes a fusion configuration file over DefaultConfig
// (JSON when name ends in .json, else YAML; unknown fields are errors, an
// empty YAML document changes nothing) and validates it (Config.Validate),
// so that a bad file fails before any engine is built. name only chooses
// the format and prefixes the errors.
func ParseConfig(name string, raw []byte) (Config, error) {
	cfg := DefaultConfig()
	var err error
	if strings.HasSuffix(name, ".json") {
		err = strict.JSON(raw, &cfg)
	} else if err = strict.YAML(raw, &cfg); errors.Is(err, strict.ErrEmpty) {
		err = nil // an empty file changes nothing
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}
