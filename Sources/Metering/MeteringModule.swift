/// Metering: calibrated per-phase readings, energy registers and load profiles from raw samples.
