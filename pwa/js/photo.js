// Photos of signed attendance lists, made small on the phone before they are stored: a 12-megapixel
// picture would cost the cadre megabytes of data and the phone its memory. Named by SHA-256 so an
// upload can be checked and repeated safely.

const MAX_SIDE = 1600; // a signed list stays readable
const QUALITY = 0.72;

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

export async function resizePhoto(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  bitmap.close(); // free the full-size picture at once on a phone with little memory
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  canvas.width = canvas.height = 0;
  const sha256 = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return { sha256, blob, type: 'image/jpeg', size: blob.size, width, height };
}
