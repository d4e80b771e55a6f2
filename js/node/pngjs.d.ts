// The part of pngjs 7 (which ships no types) that the tests use: decode.ts no longer decodes PNG
// with pngjs (it inflates and unfilters itself), but the tests write fixtures with it and compare
// against it as an independent reference. Buffers are typed as Uint8Array so this
// file type-checks without Node's types; at run time pngjs needs a real Node Buffer.
declare module 'pngjs' {
  export interface PngSyncReadResult {
    width: number;
    height: number;
    depth: number;
    colorType: number;
    interlace: boolean;
    /** RGBA, 8 bits per channel (palette, greyscale and 16-bit inputs are normalised). */
    data: Uint8Array;
  }
  export interface PngSyncWriteOptions {
    colorType?: number;
    inputColorType?: number;
    bitDepth?: number;
    inputHasAlpha?: boolean;
  }
  export const PNG: {
    sync: {
      read(buffer: Uint8Array, options?: { checkCRC?: boolean; skipRescale?: boolean }): PngSyncReadResult;
      write(png: { width: number; height: number; data: Uint8Array }, options?: PngSyncWriteOptions): Uint8Array;
    };
  };
}
