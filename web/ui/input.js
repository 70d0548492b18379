// Getting images in: drag and drop, file picker, paste, and URL import.
// Calls onInput([{file}] | [{url}]) — the queue takes it from there.

import FACTS from '../client/engine-facts.js';
import { EXT, h } from './util.js';

let uid = 0;

// Browsers call every pasted picture image.png: name it by the time instead, so a batch of pastes stays apart.
function pastedName(file, i) {
  const time = new Date().toISOString().slice(11, 19).replace(/:/g, '');
  const ext = EXT[file.type] ?? 'png';
  return `pasted-${time}${i ? `-${i}` : ''}.${ext}`;
}

const isWebUrl = (s) => {
  try { return ['http:', 'https:'].includes(new URL(s).protocol); } catch { return false; }
};

// What the file picker offers: images, and every extension the engine reads (client/engine-facts.js), since
// a system may not call a .heic or .tif an image.
const READ = FACTS.formats.filter((f) => f.readable);
const ACCEPT = ['image/*', ...READ.flatMap((f) => [f.mime, ...f.extensions])].join(',');

export function createInput({ multiple = true, accept = ACCEPT, label = 'Drop images here', hint, onInput }) {
  const id = `file-${++uid}`;
  const fileInput = h('input.visually-hidden', { id, type: 'file', accept, multiple, tabindex: '-1',
    'aria-describedby': `${id}-hint` });
  const urlInput = h('input', { type: 'url', id: `${id}-url`, placeholder: 'https://example.com/photo.jpg',
    autocomplete: 'off', inputmode: 'url' });
  const drop = h('div.dropzone', {},
    h('div.drop-icon', { 'aria-hidden': 'true' }, '⬆'),
    h('p.drop-title', {}, label),
    h('p.drop-hint', { id: `${id}-hint` }, hint ?? (multiple
      ? `Drag files here, choose them, or paste from the clipboard (Ctrl+V). ${READ.map((f) => f.label).join(', ')}.`
      : 'Drag a file here, choose it, or paste from the clipboard (Ctrl+V).')),
    fileInput,
    h('label.button.secondary', { for: id, role: 'button', tabindex: '0',
      onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } } },
    multiple ? 'Choose files' : 'Choose a file'));
  const urlProblem = h('p.field-error', { id: `${id}-url-problem`, role: 'alert' });
  urlInput.setAttribute('aria-describedby', urlProblem.id);
  const urlForm = h('form.url-form', { 'aria-label': 'Import by URL', novalidate: true },
    h('label', { for: `${id}-url` }, 'Or import from a URL'),
    h('div.url-row', {}, urlInput, h('button.secondary', { type: 'submit' }, 'Import')), urlProblem);

  const emit = (files) => {
    const list = [...files].filter(Boolean);
    if (list.length) onInput((multiple ? list : list.slice(0, 1)).map((file) => ({ file })));
  };
  fileInput.addEventListener('change', () => { emit(fileInput.files); fileInput.value = ''; });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  drop.addEventListener('dragleave', (e) => { if (!drop.contains(e.relatedTarget)) drop.classList.remove('over'); });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) emit(files);
    else {
      const url = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain');
      const first = url?.trim().split(/\s+/)[0];
      if (first && isWebUrl(first)) onInput([{ url: first }]);
    }
  });
  urlForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const urls = urlInput.value.split(/\s+/).filter(Boolean);
    if (!urls.length) { urlInput.focus(); return; }
    // Refused here, where it was typed, rather than as a failed row once the batch runs.
    const bad = urls.find((u) => !isWebUrl(u));
    urlProblem.textContent = bad ? `Only web addresses (http:// or https://) can be imported, not "${bad}".` : '';
    urlInput.toggleAttribute('aria-invalid', Boolean(bad));
    if (bad) { urlInput.focus(); return; }
    onInput((multiple ? urls : urls.slice(0, 1)).map((url) => ({ url })));
    urlInput.value = '';
  });

  const el = h('section.input', { 'aria-label': 'Add images' }, drop, urlForm);
  // Paste: the app forwards paste events to the active view.
  const paste = (e) => {
    const items = [...(e.clipboardData?.items ?? [])];
    const files = items.filter((i) => i.kind === 'file').map((i) => i.getAsFile());
    if (files.length) {
      e.preventDefault();
      emit(files.map((f, i) => (f.name && f.name !== 'image.png' ? f : new File([f], pastedName(f, i), { type: f.type }))));
      return;
    }
    const text = e.clipboardData?.getData('text/plain')?.trim();
    const target = e.target;
    const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA');
    if (!typing && text && /^https?:\/\//i.test(text)) {
      e.preventDefault();
      onInput([{ url: text.split(/\s+/)[0] }]);
    }
  };
  return { el, paste, fileInput };
}
