//go:build !race

package moto

const raceEnabled = false
