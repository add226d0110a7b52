//go:build ignore

// gen_icons draws the app's icons (icon-192.png, icon-512.png, maskable-512.png): a red
// disc with a white exclamation mark on the navy of the header, the same drawing as
// icon.svg. Run it from static/ when the drawing changes: go run gen_icons.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

var (
	navy  = color.RGBA{0x0b, 0x25, 0x40, 0xff}
	red   = color.RGBA{0xb3, 0x14, 0x1c, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

func main() {
	for _, x := range []struct {
		name string
		size int
		disc float64 // radius of the disc, as a share of the size
	}{{"icon-192.png", 192, 0.40}, {"icon-512.png", 512, 0.40}, {"maskable-512.png", 512, 0.30}} {
		if err := write(x.name, draw(x.size, x.disc)); err != nil {
			log.Fatal(err)
		}
	}
}

// draw paints the icon at n×n px, anti-aliased by 4×4 supersampling.
func draw(n int, disc float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	s := float64(n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var r, g, b float64
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					px := (float64(x) + (float64(sx)+0.5)/4) / s
					py := (float64(y) + (float64(sy)+0.5)/4) / s
					c := at(px, py, disc)
					r += float64(c.R)
					g += float64(c.G)
					b += float64(c.B)
				}
			}
			img.SetRGBA(x, y, color.RGBA{uint8(r / 16), uint8(g / 16), uint8(b / 16), 0xff})
		}
	}
	return img
}

// at is the colour of the point (x, y) of the unit square.
func at(x, y, disc float64) color.RGBA {
	dx, dy := x-0.5, y-0.5
	if math.Hypot(dx, dy) > disc {
		return navy
	}
	k := disc / 0.40 // the mark scales with the disc
	// The bar of the mark: a rounded rectangle; the dot: a disc.
	if math.Abs(dx) <= 0.045*k && dy >= -0.25*k && dy <= 0.07*k {
		return white
	}
	if math.Hypot(dx, dy-0.17*k) <= 0.055*k {
		return white
	}
	return red
}

func write(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
