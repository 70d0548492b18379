// A job's outputs as named files: one file as itself, several as a ZIP.

import { download, zipFiles, baseName, EXT } from '../util.js';
import { STATUS } from './states.js';

// "photo.webp", or "photo-grid.png" for a named extra output. Views override it (fileName in their spec).
export const defaultFileName = (job, out) =>
  `${baseName(job.name)}${out.name && out.name !== 'main' ? `-${out.name}` : ''}.${EXT[out.blob.type] ?? 'bin'}`;

export class Downloads {
  // extraFiles(job) -> [{name, blob}]: files a view makes itself beside the engine's outputs (web sizes' HTML).
  constructor({ fileName = defaultFileName, extraFiles = () => [] } = {}) {
    this.fileName = fileName;
    this.extraFiles = extraFiles;
  }

  files(job) {
    return [...job.outputs.map((o) => ({ name: this.fileName(job, o), blob: o.blob, source: job.name })),
      ...this.extraFiles(job).map((f) => ({ ...f, source: job.name }))];
  }

  async job(job) {
    const files = this.files(job);
    if (files.length === 1) download(files[0].blob, files[0].name);
    else download(await zipFiles(files), `${baseName(job.name)}.zip`);
  }

  // Failed and cancelled jobs have nothing to give, so only done ones are zipped.
  async all(jobs, zipName) {
    const files = traceable(jobs.filter((j) => j.status === STATUS.DONE).flatMap((j) => this.files(j)));
    if (!files.length) return;
    download(await zipFiles(files), zipName);
  }
}

// Outputs of different sources that would share a name (coffee.png and coffee.webp, both to JPEG)
// keep their source's extension: coffee-png.jpg, coffee-webp.jpg, so each can be traced back.
// Names still equal after that (the same file twice) get zipFiles' -2, -3.
export function traceable(files) {
  const sourcesOf = new Map();
  for (const f of files) sourcesOf.set(f.name, (sourcesOf.get(f.name) ?? new Set()).add(f.source));
  return files.map((f) => {
    const sources = sourcesOf.get(f.name);
    const ext = /\.([^./]+)$/.exec(f.source ?? '')?.[1]?.toLowerCase();
    if (sources.size < 2 || !ext) return f;
    return { ...f, name: f.name.replace(/(\.[^.]+)?$/, (outExt) => `-${ext}${outExt}`) };
  });
}
